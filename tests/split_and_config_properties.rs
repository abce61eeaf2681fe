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
                prop_assert!(!message.0.contains('\n'));
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
    fn c_is_accepted_exactly_when_positive_finite_and_its_alpha_too(
        c in prop_oneof![any::<f64>(), Just(0.0), Just(-1.0), Just(1e-310)]
    ) {
        let text = format!("[split]\nrandom_state = 0\n[model]\nC = {c:?}\n");
        let text = text.replace("NaN", "nan"); // TOML spells it nan
        let parsed = Config::parse(Path::new("c.toml"), &text);
        // The fit's alpha is 1/C (f64 by default): a subnormal C would make it infinite.
        let ok = c.is_finite() && c > 0.0 && (1.0 / c).is_finite();
        prop_assert_eq!(parsed.is_ok(), ok, "{:?}", parsed.err());
    }

    /// Names from the `name` key or from the file name, with dots, slashes, spaces and control
    /// characters: either refused in one line, or a single plain folder name inside the results
    /// root (never `.`, `..`, hidden, nested or with a control character).
    #[test]
    fn names_never_leave_the_results_root(
        name in "[a-z.\\-_/ \t\n\r\x00\x1b]{0,12}",
        from_file in any::<bool>(),
    ) {
        let body = "[split]\nrandom_state = 0\n";
        let (path, text) = if from_file {
            (format!("{name}.toml"), body.to_string())
        } else {
            let escaped: String = name.chars().flat_map(char::escape_default).collect();
            ("c.toml".to_string(), format!("name = \"{escaped}\"\n{body}"))
        };
        match Config::parse(Path::new(&path), &text) {
            Ok(config) => {
                let n = &config.name;
                prop_assert!(!n.is_empty() && !n.starts_with('.'), "{:?}", n);
                prop_assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{:?}", n);
            }
            Err(e) => prop_assert!(!e.one_line().contains('\n'), "{}", e.one_line()),
        }
    }
}
