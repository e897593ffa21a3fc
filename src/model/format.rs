//! Formatting shared by server and browser (no platform clock or locale: the same output on both
//! sides, so hydration never sees a mismatch). Calendar arithmetic is the model crate's
//! (`payments_model::calendar`), the engine's too.

use payments_model::calendar::{date_and_seconds, days_from_civil};

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_datetime(unix: i64) -> String {
    match date_and_seconds(unix) {
        Some(((y, m, d), secs)) => {
            format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", secs / 3600, secs / 60 % 60, secs % 60)
        }
        // Beyond any calendar (±999,999 years): no time the API sends.
        None => unix.to_string(),
    }
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

/// A query string (`?a=1&b=x%20y`) from pairs, leaving out empty values; `""` when none remain.
/// Filters and cursors live in the URL, so a view survives reload and can be pasted.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Digits of a currency's minor unit, as Stripe counts them (zero- and three-decimal
/// currencies; two for the rest).
pub fn currency_exponent(currency: &str) -> u32 {
    match currency.to_ascii_lowercase().as_str() {
        "bif" | "clp" | "djf" | "gnf" | "jpy" | "kmf" | "krw" | "mga" | "pyg" | "rwf" | "ugx" | "vnd" | "vuv"
        | "xaf" | "xof" | "xpf" => 0,
        "bhd" | "jod" | "kwd" | "omr" | "tnd" => 3,
        _ => 2,
    }
}

/// An amount in minor units, formatted: `$1,234.50`, `€9.00`, `¥1,200`, `12.500 KWD`.
pub fn money(amount: i64, currency: &str) -> String {
    let exp = currency_exponent(currency);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let unit = 10u64.pow(exp);
    let whole = thousands(abs / unit);
    let number = if exp == 0 { whole } else { format!("{whole}.{:0width$}", abs % unit, width = exp as usize) };
    match currency.to_ascii_lowercase().as_str() {
        "usd" => format!("{sign}${number}"),
        "eur" => format!("{sign}€{number}"),
        "gbp" => format!("{sign}£{number}"),
        "jpy" => format!("{sign}¥{number}"),
        other => format!("{sign}{number} {}", other.to_ascii_uppercase()),
    }
}

/// An amount in minor units as a form field shows it: `12.50`, `1200`, no symbol or grouping
/// ([`parse_amount`] reads it back).
pub fn plain_amount(amount: i64, currency: &str) -> String {
    let exp = currency_exponent(currency);
    let unit = 10i64.pow(exp);
    let (whole, frac) = (amount / unit, (amount % unit).abs());
    if exp == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:0width$}", width = exp as usize)
    }
}

/// Parses a typed amount (`12`, `12.5`, `1,234.50`) into minor units of `currency`; refuses
/// more decimals than the currency has, negatives and garbage, with a message for the form.
pub fn parse_amount(input: &str, currency: &str) -> Result<i64, String> {
    let exp = currency_exponent(currency) as usize;
    let cleaned: String = input.trim().chars().filter(|c| *c != ',' && *c != '_' && *c != ' ').collect();
    if cleaned.is_empty() {
        return Err("Enter an amount.".into());
    }
    let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!frac.is_empty() && !digits(frac)) || cleaned.ends_with('.') {
        return Err("Enter a positive number, like 12 or 12.50.".into());
    }
    if frac.len() > exp {
        return Err(match exp {
            0 => format!("{} has no minor unit: enter a whole number.", currency.to_ascii_uppercase()),
            n => format!("{} has {n} decimal places at most.", currency.to_ascii_uppercase()),
        });
    }
    let scale = 10i64.pow(exp as u32);
    let whole: i64 = whole.parse().map_err(|_| "That amount is too large.".to_string())?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<exp$}").parse().unwrap_or(0) };
    whole.checked_mul(scale).and_then(|w| w.checked_add(frac)).ok_or_else(|| "That amount is too large.".to_string())
}

/// A count that was counted only up to `limit`: past it (`limit + 1`), `1,000+`.
pub fn count_up_to(n: u32, limit: u32) -> String {
    if n > limit {
        format!("{}+", thousands(limit.into()))
    } else {
        thousands(n.into())
    }
}

/// A count with thousands separators (`20,000`).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An ISO timestamp from the API (`2026-11-25T10:00:01.000Z`) as `2026-11-25 10:00 UTC`.
pub fn iso_short(iso: &str) -> String {
    match (iso.get(..10), iso.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => iso.to_owned(),
    }
}

/// An ISO timestamp from the API (`2026-11-25T10:00:01.000Z`, always UTC) as Unix seconds;
/// `None` when it is not one.
pub fn iso_unix(iso: &str) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| {
        iso.get(range).filter(|s| s.bytes().all(|b| b.is_ascii_digit()))?.parse::<i64>().ok()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm) = (num(11..13)?, num(14..16)?);
    let ss = num(17..19).unwrap_or(0);
    let shape = iso.as_bytes();
    if shape.get(4) != Some(&b'-') || shape.get(7) != Some(&b'-') || shape.get(13) != Some(&b':') {
        return None;
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // `None` for a date that does not exist (`2026-02-30`, month 13).
    let days = days_from_civil(y, u32::try_from(m).ok()?, u32::try_from(d).ok()?)?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Unix seconds in the API's ISO form (`2026-11-25T10:00:01.000Z`), e.g. for `<time datetime>`.
pub fn unix_iso(unix: i64) -> String {
    match date_and_seconds(unix) {
        Some(((y, m, d), secs)) => {
            format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z", secs / 3600, secs / 60 % 60, secs % 60)
        }
        None => unix.to_string(),
    }
}

/// An ISO timestamp in the time zone `offset_minutes` east of UTC, in [`iso_short`]'s format
/// with the offset named: `2026-11-25 11:00 UTC+1`, `2026-11-25 15:30 UTC+5:30`.
pub fn iso_short_at_offset(iso: &str, offset_minutes: i64) -> String {
    let Some(unix) = iso_unix(iso) else { return iso_short(iso) };
    if offset_minutes == 0 {
        return iso_short(iso);
    }
    let local = unix_iso(unix + offset_minutes * 60);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let (h, m) = (offset_minutes.abs() / 60, offset_minutes.abs() % 60);
    let zone = if m == 0 { format!("UTC{sign}{h}") } else { format!("UTC{sign}{h}:{m:02}") };
    format!("{} {} {zone}", &local[..10], &local[11..16])
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
    fn converts_iso_timestamps_both_ways_and_to_other_zones() {
        assert_eq!(iso_unix("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(iso_unix("2026-11-25T23:59:59.000Z"), Some(1_795_651_199));
        assert_eq!(iso_unix("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(iso_unix("soon"), None);
        assert_eq!(iso_unix("2026-13-01T00:00:00Z"), None);
        // A day the month does not have (the hand-written check let any day up to 31 through).
        assert_eq!(iso_unix("2026-02-30T00:00:00Z"), None);
        assert_eq!(iso_short_at_offset("2026-02-30T10:00:00Z", 60), "2026-02-30 10:00 UTC");
        for unix in [0, 951_782_400, 1_795_651_199, -1] {
            assert_eq!(iso_unix(&unix_iso(unix)), Some(unix));
        }
        let iso = "2026-11-25T23:30:00.000Z";
        assert_eq!(iso_short_at_offset(iso, 0), "2026-11-25 23:30 UTC");
        assert_eq!(iso_short_at_offset(iso, 60), "2026-11-26 00:30 UTC+1");
        assert_eq!(iso_short_at_offset(iso, -300), "2026-11-25 18:30 UTC-5");
        assert_eq!(iso_short_at_offset(iso, 330), "2026-11-26 05:00 UTC+5:30");
        assert_eq!(iso_short_at_offset("never", 60), "never");
    }

    #[test]
    fn formats_money_in_minor_units() {
        assert_eq!(money(123_450, "usd"), "$1,234.50");
        assert_eq!(money(900, "EUR"), "€9.00");
        assert_eq!(money(1200, "jpy"), "¥1,200");
        assert_eq!(money(12_500, "kwd"), "12.500 KWD");
        assert_eq!(money(-5, "chf"), "-0.05 CHF");
        assert_eq!(money(0, "usd"), "$0.00");
    }

    #[test]
    fn plain_amounts_read_back() {
        for (minor, cur, text) in
            [(1250, "usd", "12.50"), (5, "usd", "0.05"), (1200, "jpy", "1200"), (12500, "kwd", "12.500")]
        {
            assert_eq!(plain_amount(minor, cur), text);
            assert_eq!(parse_amount(text, cur), Ok(minor));
        }
    }

    #[test]
    fn counts_read_with_separators_and_a_limit() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(count_up_to(999, 1_000), "999");
        assert_eq!(count_up_to(1_000, 1_000), "1,000");
        assert_eq!(count_up_to(1_001, 1_000), "1,000+");
    }

    #[test]
    fn parses_typed_amounts() {
        assert_eq!(parse_amount("12", "usd"), Ok(1200));
        assert_eq!(parse_amount("12.5", "usd"), Ok(1250));
        assert_eq!(parse_amount(" 1,234.56 ", "usd"), Ok(123_456));
        assert_eq!(parse_amount("1200", "jpy"), Ok(1200));
        assert!(parse_amount("12.5", "jpy").unwrap_err().contains("whole number"));
        assert!(parse_amount("1.234", "usd").unwrap_err().contains("2 decimal"));
        assert!(parse_amount("-3", "usd").is_err());
        assert!(parse_amount("abc", "usd").is_err());
        assert!(parse_amount("", "usd").is_err());
        assert!(parse_amount("99999999999999999999", "usd").is_err());
    }

    #[test]
    fn builds_query_strings_without_empty_values() {
        assert_eq!(
            query_string(&[("status", "active"), ("customer", ""), ("cursor", "a:b")]),
            "?status=active&cursor=a%3Ab"
        );
        assert_eq!(query_string(&[("q", "")]), "");
    }

    #[test]
    fn encodes_reserved_characters() {
        assert_eq!(url_encode("1700000000:aud_1f"), "1700000000%3Aaud_1f");
        assert_eq!(url_encode("/live/catalog?active=true"), "%2Flive%2Fcatalog%3Factive%3Dtrue");
    }
}
