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

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// How a stored column is read (`DeriveValueType`): a value the
        /// code does not know is an error, never a silent default.
        impl std::str::FromStr for $ty {
            type Err = sea_orm::sea_query::ValueTypeErr;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text).ok_or(sea_orm::sea_query::ValueTypeErr)
            }
        }
    };
}

pub mod fields;
pub mod ics;
pub mod imports;
pub mod interview;
pub mod keys;
pub mod lang;
pub mod message;
pub mod net;
pub mod noise;
pub mod rate_limit;
pub mod signature;
pub mod sniff;
pub mod stats;
pub mod status;
pub mod subject_request;
