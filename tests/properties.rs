//! Property tests: the split (disjoint, sizes, determinism) and the config parser (never panics,
//! errors are one line, numbers validated).

use std::path::Path;

use mnist_logreg::config::Config;
use mnist_logreg::split::{resolve_sizes, train_test_split, Size, SplitSpec};
use proptest::prelude::*;

fn size() -> impl Strategy<Value = Option<Size>> {
    prop_oneof![
        Just(None),
        (0.01f64..0.99).prop_map(|f| Some(Size::Fraction(f))),
        (1usize..3000).prop_map(|c| Some(Size::Count(c))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn splits_are_disjoint_sized_and_deterministic(
        n in 2usize..3000,
        train_size in size(),
        test_size in size(),
        random_state in any::<u32>(),
        shuffle in any::<bool>(),
    ) {
        let spec = SplitSpec { train_size, test_size, random_state, shuffle };
        match train_test_split(n, &spec) {
            Err(message) => {
                prop_assert!(resolve_sizes(n, train_size, test_size).is_err());
                prop_assert!(!message.contains('\n'));
            }
            Ok(split) => {
                let (n_train, n_test) = resolve_sizes(n, train_size, test_size).unwrap();
                prop_assert_eq!(split.train.len(), n_train);
                prop_assert_eq!(split.test.len(), n_test);
                prop_assert!(n_train >= 1 && n_test >= 1 && n_train + n_test <= n);
                let mut seen = vec![false; n];
                for &i in split.train.iter().chain(&split.test) {
                    prop_assert!(i < n);
                    prop_assert!(!seen[i], "index {} twice", i);
                    seen[i] = true;
                }
                prop_assert_eq!(train_test_split(n, &spec).unwrap(), split);
            }
        }
    }

    #[test]
    fn the_parser_never_panics_and_errors_are_one_line(text in "(?s).{0,400}") {
        if let Err(e) = Config::parse(Path::new("fuzz.toml"), &text) {
            let message = e.to_string();
            prop_assert!(message.starts_with("fuzz.toml"));
            prop_assert!(!message.contains('\n'), "{}", message);
        }
    }

    #[test]
    fn the_parser_survives_mangled_configs(
        cut in 0usize..400,
        junk in "[\\[\\]=\"a-z0-9.,\n -]{0,20}",
    ) {
        let base = "name = \"x\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nC = 1.0\nmax_iter = 10\n[[grid]]\nC = [0.1, 1.0]\n";
        let cut = cut.min(base.len());
        let text = format!("{}{}{}", &base[..cut], junk, &base[cut..]);
        if let Err(e) = Config::parse(Path::new("m.toml"), &text) {
            prop_assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn c_is_accepted_exactly_when_positive_and_finite(c in prop_oneof![any::<f64>(), Just(0.0), Just(-1.0)]) {
        let text = format!("[split]\nrandom_state = 0\n[model]\nC = {c:?}\n");
        let text = text.replace("NaN", "nan"); // TOML spells it nan
        let parsed = Config::parse(Path::new("c.toml"), &text);
        prop_assert_eq!(parsed.is_ok(), c.is_finite() && c > 0.0, "{:?}", parsed.err());
    }
}
