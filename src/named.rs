//! Enums whose values have a name in configs, records, CSV and charts: each name is written once,
//! in the enum's definition, and `NAMES`, `parse`, `as_str`, `Display` and serde all come from it.
//!
//! May touch: nothing else in the crate.

/// An enum of named values, as a config spells them.
pub trait Named: Copy + 'static {
    /// Every name, in declaration order.
    const NAMES: &'static [&'static str];
    /// The value a name stands for.
    fn parse(name: &str) -> Option<Self>;
    /// The value's name.
    fn as_str(self) -> &'static str;
}

/// Defines a fieldless enum whose variants are spelled by the given names everywhere.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $crate::named::Named for $name {
            const NAMES: &'static [&'static str] = &[$($text),+];
            fn parse(name: &str) -> Option<Self> {
                match name {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
            fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl $name {
            /// Every name, in declaration order.
            pub const NAMES: &'static [&'static str] = <$name as $crate::named::Named>::NAMES;
            /// The value a name stands for.
            pub fn parse(name: &str) -> Option<Self> {
                <$name as $crate::named::Named>::parse(name)
            }
            /// The value's name.
            pub fn as_str(self) -> &'static str {
                <$name as $crate::named::Named>::as_str(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&name).ok_or_else(|| {
                    <D::Error as serde::de::Error>::unknown_variant(&name, Self::NAMES)
                })
            }
        }
    };
}

pub(crate) use named_enum;

#[cfg(test)]
mod tests {

    named_enum! {
        /// A test enum.
        pub enum Colour {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn names_round_trip_through_parse_display_and_serde() {
        assert_eq!(Colour::NAMES, &["red", "dark_blue"]);
        for &name in Colour::NAMES {
            let c = Colour::parse(name).unwrap();
            assert_eq!(c.as_str(), name);
            assert_eq!(c.to_string(), name);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), c);
        }
        assert_eq!(Colour::parse("green"), None);
        let e = serde_json::from_str::<Colour>("\"green\"").unwrap_err();
        assert!(
            e.to_string().contains("expected `red` or `dark_blue`"),
            "{e}"
        );
    }
}
