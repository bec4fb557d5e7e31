//! Pure rules: no I/O here, each module tested beside its code.

/// For a closed set of values stored as text: `ALL`, `as_str` and `parse`.
macro_rules! stored_as_text {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }

            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == value)
            }
        }
    };
}

pub mod fields;
pub mod ics;
pub mod imports;
pub mod interview;
pub mod keys;
pub mod message;
pub mod net;
pub mod rate_limit;
pub mod signature;
pub mod sniff;
pub mod status;
