//! Integers as Italian readers expect them, `1.234.567`: the one implementation behind pages,
//! messages and amounts (money in [`crate::denaro`], e-mails in `servizi`, filters in `web`).

use num_format::{Locale, ToFormattedString};

/// An integer with Italian thousands separators: `-1234567` → `-1.234.567`.
pub fn intero_it(n: i64) -> String {
    n.to_formatted_string(&Locale::it)
}

/// The same for an unsigned quantity (amounts' whole euros).
pub fn naturale_it(n: u64) -> String {
    n.to_formatted_string(&Locale::it)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn separatori_delle_migliaia() {
        assert_eq!(intero_it(0), "0");
        assert_eq!(intero_it(999), "999");
        assert_eq!(intero_it(1234), "1.234");
        assert_eq!(intero_it(-1234567), "-1.234.567");
        assert_eq!(naturale_it(u64::MAX), "18.446.744.073.709.551.615");
    }
}
