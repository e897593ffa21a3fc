//! Calendar arithmetic shared by the engine (which parses date filters and prints timestamps)
//! and the console's pages (which print them in the browser): proleptic Gregorian dates and
//! days since 1970-01-01, by the `time` crate, so that both sides agree on every date.

use time::{Date, Month};

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// A date to days since 1970-01-01; `None` when there is no such date (`2026-02-29`, month 13)
/// or it lies outside ±999,999 years.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    let year = i32::try_from(year).ok()?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    Some(i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY)
}

/// Days since 1970-01-01 to a date `(year, month 1–12, day 1–31)`; `None` outside ±999,999 years.
pub fn civil_from_days(days: i64) -> Option<(i64, u32, u32)> {
    let julian = i32::try_from(days.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()?;
    let (year, month, day) = Date::from_julian_day(julian).ok()?.to_calendar_date();
    Some((i64::from(year), u32::from(u8::from(month)), u32::from(day)))
}

/// `YYYY-MM-DD` and the seconds into that day (UTC) of a time `secs` seconds after the epoch;
/// `None` outside ±999,999 years.
pub fn date_and_seconds(secs: i64) -> Option<((i64, u32, u32), i64)> {
    Some((civil_from_days(secs.div_euclid(86_400))?, secs.rem_euclid(86_400)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_days_agree_both_ways() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 2, 29), Some(11_016));
        assert_eq!(days_from_civil(1969, 12, 31), Some(-1));
        assert_eq!(days_from_civil(0, 1, 1), Some(-719_528));
        assert_eq!(civil_from_days(11_016), Some((2000, 2, 29)));
        assert_eq!(civil_from_days(-1), Some((1969, 12, 31)));
        // Every day of four centuries round-trips (leap years, century rules).
        for days in (-146_097 * 2)..(146_097 * 2) {
            let (y, m, d) = civil_from_days(days).unwrap();
            assert_eq!(days_from_civil(y, m, d), Some(days));
        }
        // JavaScript's `Date` range stays within reach.
        assert_eq!(civil_from_days(100_000_000), Some((275_760, 9, 13)));
    }

    #[test]
    fn impossible_dates_and_absurd_days_are_none() {
        for (y, m, d) in [(2026, 2, 29), (2026, 4, 31), (2026, 13, 1), (2026, 0, 10), (2026, 1, 0), (1_000_000, 1, 1)] {
            assert_eq!(days_from_civil(y, m, d), None, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(i64::MAX, 1, 1), None);
        assert_eq!(civil_from_days(i64::MAX), None);
        assert_eq!(civil_from_days(i64::MIN), None);
    }
}
