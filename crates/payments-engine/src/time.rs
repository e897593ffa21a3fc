//! Time as the payments tables store it (Unix milliseconds) and as the API shows it
//! (`YYYY-MM-DDTHH:MM:SS.mmmZ`, what JavaScript's `Date.toISOString()` prints).

use std::time::{SystemTime, UNIX_EPOCH};

use payments_model::calendar::date_and_seconds;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Formats Unix milliseconds as an ISO-8601 UTC string with millisecond precision. (Beyond
/// ±999,999 years, where no calendar reaches and no stored time lies, the plain number.)
pub fn iso_ms(ms: i64) -> String {
    let millis = ms.rem_euclid(1000);
    match date_and_seconds(ms.div_euclid(1000)) {
        Some(((y, m, d), sod)) => {
            format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", sod / 3600, sod % 3600 / 60, sod % 60)
        }
        None => ms.to_string(),
    }
}

/// [`iso_ms`] for nullable columns.
pub fn iso_opt(ms: Option<i64>) -> Option<String> {
    ms.map(iso_ms)
}

// The date filters' parser lives in the model, which the console also compiles to WebAssembly:
// the list filters (`payments_model::filters`) read their bounds with it.
pub use payments_model::calendar::{parse_time, MAX_ABS_MS};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_to_iso_string() {
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(1_778_625_667_123), "2026-05-12T22:41:07.123Z");
        // Leap day and end of a leap year.
        assert_eq!(iso_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_ms(1_735_689_599_999), "2024-12-31T23:59:59.999Z");
        assert_eq!(iso_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_opt(None), None);
    }

    #[test]
    fn parses_dates_times_and_milliseconds() {
        assert_eq!(parse_time("1970-01-01"), Some(0));
        assert_eq!(parse_time("2026-05-12T22:41:07.123Z"), Some(1_778_625_667_123));
        assert_eq!(parse_time("2026-05-12T22:41Z"), Some(1_778_625_660_000));
        assert_eq!(parse_time("2026-05-12T22:41:07Z"), Some(1_778_625_667_000));
        assert_eq!(parse_time("2026-05-12T22:41:07.1Z"), Some(1_778_625_667_100));
        assert_eq!(parse_time("2026-05-12T22:41:07.123999Z"), Some(1_778_625_667_123));
        assert_eq!(parse_time("2000-02-29"), Some(951_782_400_000));
        assert_eq!(parse_time("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(parse_time("0000-01-01"), Some(-62_167_219_200_000));
        assert_eq!(parse_time("9999-12-31T23:59:59.999Z"), Some(253_402_300_799_999));
        assert_eq!(parse_time("1778625667123"), Some(1_778_625_667_123));
        assert_eq!(parse_time("-5"), Some(-5));
        assert_eq!(parse_time(&MAX_ABS_MS.to_string()), Some(MAX_ABS_MS));
    }

    #[test]
    fn absurd_dates_are_refused_without_overflow() {
        // The first ones overflowed the millisecond arithmetic (a panic in debug builds).
        for bad in [
            "99999999999-01-01",
            "9223372036854775807-12-31",
            "-9223372036854775808-01-01",
            "2026-01-01T9223372036854775807:00Z",
            "2026-01-01T00:9223372036854775807Z",
            "2026-01-01T00:00:1e300Z",
            "2026-01-01T00:00:NaNZ",
            "2026-01-01T00:00:infZ",
            "2026-01-01T-1:00Z",
            "2026-01-01T24:00Z",
            "2026-01-01T23:60Z",
            "2026-01-01T23:59:60Z",
            "2026-01-01T23:59:59.Z",
            "2026-01-01T23:59:59.1234567890Z",
            "2026-01-01T23:59Z:00",
            "2026-01-01T23:59",
            "2026-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "+2026-01-01",
            "2026-1-1",
            "20260-01-01",
            "9223372036854775807",
            "-9223372036854775808",
            "8640000000000001",
            "yesterday",
            "",
            "T",
            "--",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
