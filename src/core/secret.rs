//! A secret value (an API token, a webhook signing secret): held only in memory, never
//! printed. `Debug` and `Display` show a mask; there is no `Serialize`, so a secret
//! cannot reach a report by accident. Read it with [`Secret::expose`] at the one place
//! that must send or sign with it.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// What every rendering of a secret shows.
pub const MASK: &str = "****";

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for signing or an `Authorization` header. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({MASK})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("whsec_abcdefghijklmnop");
        assert_eq!(format!("{s}"), MASK);
        assert_eq!(format!("{s:?}"), "Secret(****)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(****))");
        assert_eq!(s.expose(), "whsec_abcdefghijklmnop");
    }
}
