//! Formatting shared by server and browser (no platform clock or locale: the same output on both
//! sides, so hydration never sees a mismatch).

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_datetime(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Percent-encodes a URL query value or path segment (everything but RFC 3986's unreserved
/// characters), e.g. cursors and `next=` targets.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(utc_datetime(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_datetime(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_datetime(1_795_651_199), "2026-11-25 23:59:59 UTC");
        assert_eq!(utc_datetime(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn encodes_reserved_characters() {
        assert_eq!(url_encode("1700000000:aud_1f"), "1700000000%3Aaud_1f");
        assert_eq!(url_encode("/live/catalog?active=true"), "%2Flive%2Fcatalog%3Factive%3Dtrue");
    }
}
