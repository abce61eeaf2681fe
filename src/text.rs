//! How numbers (and names, on one line) are written for people (configs' error messages, READMEs, chart legends), stated
//! once.
//!
//! May touch: nothing else in the crate.

/// `text` on one line: control characters (a newline in a file name, say) escaped as Rust
/// writes them, so that a name cannot print a second line, let alone forge one.
pub fn escaped(text: &str) -> String {
    text.chars()
        .flat_map(|c| -> Box<dyn Iterator<Item = char>> {
            if c.is_control() {
                Box::new(c.escape_default())
            } else {
                Box::new(std::iter::once(c))
            }
        })
        .collect()
}

/// A number as people write it: plain where that is short (`0.01`, `100`), in exponent form
/// where it is not (`1e-40`, `1e300`), never 300 digits.
pub fn display_number(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A number in JSON that may be infinite (`C = inf`): JSON has no infinity, so it is written as
/// the string `"inf"` (what scikit-learn's `float("inf")` reads), finite numbers as numbers.
pub mod number_or_inf {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_infinite() {
            s.serialize_str(if *v > 0.0 { "inf" } else { "-inf" })
        } else {
            s.serialize_f64(*v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(f64),
            Text(String),
        }
        match Written::deserialize(d)? {
            Written::Number(v) => Ok(v),
            Written::Text(t) if t == "inf" => Ok(f64::INFINITY),
            Written::Text(t) if t == "-inf" => Ok(f64::NEG_INFINITY),
            Written::Text(other) => Err(serde::de::Error::custom(format!(
                "expected a number or \"inf\", found {other:?}"
            ))),
        }
    }
}

/// `v` rounded up to one significant digit, for a bound in a message (2.94e-39 -> "3e-39").
pub fn round_up_one_digit(v: f64) -> String {
    let exponent = v.log10().floor();
    let mantissa = (v / 10f64.powf(exponent)).ceil();
    format!("{mantissa}e{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_short() {
        assert_eq!(display_number(1e300), "1e300");
        assert_eq!(display_number(0.01), "0.01");
        assert_eq!(display_number(100.0), "100");
        assert_eq!(display_number(1.0), "1");
        assert_eq!(display_number(1e-40), "1e-40");
        assert_eq!(round_up_one_digit(2.94e-39), "3e-39");
    }
}
