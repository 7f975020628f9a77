//! Timestamps as the .NET CloudEvents SDK and ASP.NET read and write them.
//!
//! A [`Timestamp`] is an instant (100-ns ticks since the Unix epoch, UTC) together with the
//! UTC offset it was written with, much like .NET's `DateTimeOffset`. Parsing and formatting
//! work on bytes without allocating (except for the returned `String` of [`Timestamp::format`]).

use alloc::string::String;
use core::cmp::Ordering;
use core::fmt;

const TICKS_PER_MICRO: i64 = 10;
const TICKS_PER_MILLI: i64 = 10_000;
const TICKS_PER_SECOND: i64 = 10_000_000;
const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;
/// Number of fractional-second digits a tick can represent.
const FRACTION_DIGITS: u32 = 7;
/// Largest accepted offset hour (`+14:xx`), as in .NET.
const MAX_OFFSET_HOURS: u32 = 14;

/// 100-ns ticks since 1970-01-01T00:00:00Z (may be negative), plus the UTC offset the value
/// was written with.
///
/// Equality is structural: two timestamps are equal only when they denote the same instant
/// *and* carry the same offset (`2022-01-01T02:00:00+02:00 != 2022-01-01T00:00:00Z`).
/// Use [`Timestamp::same_instant`] / [`Timestamp::cmp_instant`] to compare instants only.
/// `Ord` orders by instant first and uses the offset only as a tie-breaker, which keeps it
/// consistent with `Eq` while sorting chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp {
    ticks: i64,
    offset: i16,
}

/// Error returned when a timestamp string cannot be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// The text is not a valid timestamp in the expected format.
    Invalid,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::Invalid => f.write_str("invalid timestamp"),
        }
    }
}

impl core::error::Error for TimeError {}

impl Timestamp {
    /// The instant `ms` milliseconds after the Unix epoch, with offset 0.
    /// Values beyond the tick range (about ±29 000 years) saturate.
    pub fn from_unix_millis(ms: i64) -> Timestamp {
        Timestamp {
            ticks: ms.saturating_mul(TICKS_PER_MILLI),
            offset: 0,
        }
    }

    /// The instant `ticks` 100-ns units after the Unix epoch, with offset 0.
    pub fn from_utc_ticks(ticks: i64) -> Timestamp {
        Timestamp { ticks, offset: 0 }
    }

    /// Milliseconds since the Unix epoch, rounded towards negative infinity.
    pub fn unix_millis(&self) -> i64 {
        self.ticks.div_euclid(TICKS_PER_MILLI)
    }

    /// 100-ns ticks since the Unix epoch (UTC).
    pub fn utc_ticks(&self) -> i64 {
        self.ticks
    }

    /// The UTC offset, in minutes, the value was written with.
    pub fn offset_minutes(&self) -> i16 {
        self.offset
    }

    /// The same instant with offset 0.
    pub fn to_utc(&self) -> Timestamp {
        Timestamp {
            ticks: self.ticks,
            offset: 0,
        }
    }

    /// Whether the offset is 0 (formats with `Z`).
    pub fn is_utc(&self) -> bool {
        self.offset == 0
    }

    /// Whether both denote the same instant, whatever their offsets.
    pub fn same_instant(&self, other: &Timestamp) -> bool {
        self.ticks == other.ticks
    }

    /// Compares instants only, ignoring offsets.
    pub fn cmp_instant(&self, other: &Timestamp) -> Ordering {
        self.ticks.cmp(&other.ticks)
    }

    /// CloudEvent `time` attribute (RFC 3339): `YYYY-MM-DD` `T` (or `t`) `hh:mm:ss`, an optional
    /// `.` with one or more fractional digits (digits beyond the 7th are truncated), then `Z`/`z`
    /// or `+hh:mm`/`-hh:mm` (offset hours 0..=14, minutes 0..=59).
    ///
    /// Years 0001-9999, days valid for the month (leap years included), hours 0-23,
    /// minutes 0-59 and seconds 0-59 (leap second 60 is rejected). Anything else is an error.
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, TimeError> {
        let b = s.as_bytes();
        let days = parse_date(b).ok_or(TimeError::Invalid)?;
        if !matches!(b.get(10), Some(b'T' | b't')) {
            return Err(TimeError::Invalid);
        }
        let (time, i) = parse_time(b, 11, true).ok_or(TimeError::Invalid)?;
        let (offset, i) = match b.get(i) {
            Some(b'Z' | b'z') => (0, i + 1),
            Some(&sign @ (b'+' | b'-')) => {
                let hours = num2(b, i + 1).ok_or(TimeError::Invalid)?;
                if b.get(i + 3) != Some(&b':') {
                    return Err(TimeError::Invalid);
                }
                let minutes = num2(b, i + 4).ok_or(TimeError::Invalid)?;
                (
                    offset_from(sign, hours, minutes).ok_or(TimeError::Invalid)?,
                    i + 6,
                )
            }
            _ => return Err(TimeError::Invalid),
        };
        if i != b.len() {
            return Err(TimeError::Invalid);
        }
        Ok(Timestamp::from_local(days, time, offset))
    }

    /// Query-string dates (`from`, `to` of the app-events API) as ASP.NET binds `DateTime`.
    ///
    /// Accepts `YYYY-MM-DD`, optionally followed by `T`/`t` or one space and `hh:mm`, optional
    /// `:ss` and, after the seconds, an optional fraction (truncated past 7 digits); then an
    /// optional designator `Z`/`z`, `±hh:mm`, `±hhmm` or `±hh`. A designator may follow the
    /// date directly (`2020-01-01Z` is midnight UTC). Surrounding ASCII whitespace is ignored.
    ///
    /// Returns the timestamp and whether a designator was present. Without one the value is
    /// read as UTC.
    pub fn parse_query(s: &str) -> Result<(Timestamp, bool), TimeError> {
        let b = s.trim_matches(|c: char| c.is_ascii_whitespace()).as_bytes();
        let days = parse_date(b).ok_or(TimeError::Invalid)?;
        let (time, mut i) = match b.get(10) {
            Some(b'T' | b't' | b' ') => parse_time(b, 11, false).ok_or(TimeError::Invalid)?,
            _ => (0, 10),
        };
        let designator = match b.get(i) {
            None => None,
            Some(b'Z' | b'z') => {
                i += 1;
                Some(0)
            }
            Some(&sign @ (b'+' | b'-')) => {
                let hours = num2(b, i + 1).ok_or(TimeError::Invalid)?;
                i += 3;
                let minutes = match b.get(i) {
                    None => 0,
                    Some(b':') => {
                        let m = num2(b, i + 1).ok_or(TimeError::Invalid)?;
                        i += 3;
                        m
                    }
                    Some(_) => {
                        let m = num2(b, i).ok_or(TimeError::Invalid)?;
                        i += 2;
                        m
                    }
                };
                Some(offset_from(sign, hours, minutes).ok_or(TimeError::Invalid)?)
            }
            Some(_) => return Err(TimeError::Invalid),
        };
        if i != b.len() {
            return Err(TimeError::Invalid);
        }
        let offset = designator.unwrap_or(0);
        Ok((
            Timestamp::from_local(days, time, offset),
            designator.is_some(),
        ))
    }

    /// Formats as the .NET CloudEvents SDK does: `YYYY-MM-DDThh:mm:ss`, then no fraction for
    /// whole seconds, 3 digits for whole milliseconds, 6 for whole microseconds, else 7; then `Z`
    /// for offset 0, else `+hh:mm`/`-hh:mm`. The digits are the local time (UTC + offset).
    pub fn format(&self) -> String {
        let mut out = String::with_capacity(FORMATTED_CAPACITY);
        self.write_to(&mut out);
        out
    }

    /// Appends [`Timestamp::format`]'s text to `out`.
    pub fn write_to(&self, out: &mut String) {
        use fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(out, "{self}");
    }

    /// Builds a timestamp from days since the epoch, ticks within the (local) day and an offset.
    fn from_local(days: i64, time_ticks: i64, offset: i16) -> Timestamp {
        // Inputs are range-checked by the parsers (years 1..=9999), so this cannot overflow.
        let local = days * TICKS_PER_DAY + time_ticks;
        Timestamp {
            ticks: local - i64::from(offset) * TICKS_PER_MINUTE,
            offset,
        }
    }
}

impl fmt::Display for Timestamp {
    /// [`Timestamp::format`]'s text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self
            .ticks
            .saturating_add(i64::from(self.offset) * TICKS_PER_MINUTE);
        let days = local.div_euclid(TICKS_PER_DAY);
        let in_day = local.rem_euclid(TICKS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let seconds = in_day / TICKS_PER_SECOND;
        let fraction = in_day % TICKS_PER_SECOND;

        if year < 0 {
            f.write_str("-")?;
        }
        write!(
            f,
            "{:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            year.unsigned_abs(),
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )?;
        if fraction != 0 {
            if fraction % TICKS_PER_MILLI == 0 {
                write!(f, ".{:03}", fraction / TICKS_PER_MILLI)?;
            } else if fraction % TICKS_PER_MICRO == 0 {
                write!(f, ".{:06}", fraction / TICKS_PER_MICRO)?;
            } else {
                write!(f, ".{fraction:07}")?;
            }
        }
        if self.offset == 0 {
            f.write_str("Z")
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let minutes = self.offset.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Timestamp) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    /// By instant; equal instants are ordered by offset so that `Ord` agrees with `Eq`.
    fn cmp(&self, other: &Timestamp) -> Ordering {
        self.ticks
            .cmp(&other.ticks)
            .then(self.offset.cmp(&other.offset))
    }
}

/// Longest possible text: sign + 5-digit year (i64 ticks span the years -27258..=31197),
/// `-MM-DDThh:mm:ss` (15), `.fffffff` (8) and `+hh:mm` (6) = 35, rounded up.
const FORMATTED_CAPACITY: usize = 40;

/// The ASCII digit at `b[i]`, if any.
#[inline]
fn digit(b: &[u8], i: usize) -> Option<u32> {
    let d = b.get(i)?.wrapping_sub(b'0');
    if d < 10 {
        Some(u32::from(d))
    } else {
        None
    }
}

/// Two ASCII digits at `b[i..i + 2]`.
#[inline]
fn num2(b: &[u8], i: usize) -> Option<u32> {
    Some(digit(b, i)? * 10 + digit(b, i + 1)?)
}

/// `YYYY-MM-DD` at the start of `b`, validated, as days since the Unix epoch.
fn parse_date(b: &[u8]) -> Option<i64> {
    let year = num2(b, 0)? * 100 + num2(b, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = num2(b, 5)?;
    let day = num2(b, 8)?;
    let year = i64::from(year);
    if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `hh:mm:ss` (or, when `seconds_required` is false, `hh:mm` with optional `:ss`) at `b[i..]`,
/// followed by an optional `.` and fraction when seconds are present. Returns the ticks since
/// midnight and the index after the time.
fn parse_time(b: &[u8], i: usize, seconds_required: bool) -> Option<(i64, usize)> {
    let hour = num2(b, i)?;
    if b.get(i + 2) != Some(&b':') {
        return None;
    }
    let minute = num2(b, i + 3)?;
    let mut end = i + 5;
    let mut second = 0;
    let mut fraction = 0;
    if b.get(end) == Some(&b':') {
        second = num2(b, end + 1)?;
        end += 3;
        if b.get(end) == Some(&b'.') {
            let (f, after) = parse_fraction(b, end + 1)?;
            fraction = f;
            end = after;
        }
    } else if seconds_required {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let seconds = i64::from(hour * 3600 + minute * 60 + second);
    Some((seconds * TICKS_PER_SECOND + fraction, end))
}

/// One or more digits at `b[i..]` as ticks (first 7 digits, the rest truncated).
fn parse_fraction(b: &[u8], mut i: usize) -> Option<(i64, usize)> {
    let start = i;
    let mut ticks = 0i64;
    while let Some(d) = digit(b, i) {
        if i - start < FRACTION_DIGITS as usize {
            ticks = ticks * 10 + i64::from(d);
        }
        i += 1;
    }
    let count = i - start;
    if count == 0 {
        return None;
    }
    if count < FRACTION_DIGITS as usize {
        ticks *= 10i64.pow(FRACTION_DIGITS - count as u32);
    }
    Some((ticks, i))
}

/// Signed offset in minutes, if hours and minutes are in range.
fn offset_from(sign: u8, hours: u32, minutes: u32) -> Option<i16> {
    if hours > MAX_OFFSET_HOURS || minutes > 59 {
        return None;
    }
    // At most 14 * 60 + 59 = 899, well within i16.
    let total = (hours * 60 + minutes) as i16;
    Some(if sign == b'-' { -total } else { total })
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
/// Works on 400-year eras of 146 097 days counted from 0000-03-01, so that the leap day is
/// the last day of each (March-based) year.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400; // 0..=399
    let month = i64::from(month);
    let month_from_march = if month > 2 { month - 3 } else { month + 9 }; // 0..=11
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 = days from 0000-03-01 to 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month 1-12, day 1-31).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097; // 0..=146_096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// An instant as whole milliseconds since the Unix epoch (UTC): how time enters the core's state
/// machines (as rustls' `TimeProvider` hands in a `UnixTime`). The core never reads a clock; the
/// worker passes `UnixTime::from_millis(Date.now())` into every call that needs the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The instant `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: i64) -> UnixTime {
        UnixTime(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// `ms` milliseconds later (saturating).
    pub const fn plus_millis(self, ms: i64) -> UnixTime {
        UnixTime(self.0.saturating_add(ms))
    }

    /// `secs` seconds later (saturating).
    pub const fn plus_secs(self, secs: u32) -> UnixTime {
        self.plus_millis(secs as i64 * 1000)
    }

    /// The same instant as a [`Timestamp`] (offset 0), for formatting.
    pub fn to_timestamp(self) -> Timestamp {
        Timestamp::from_unix_millis(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    const T: i64 = TICKS_PER_SECOND;
    /// 2022-05-12T00:02:07Z
    const BASE_SECS: i64 = 1_652_313_727;

    fn ts(ticks: i64, offset: i16) -> Timestamp {
        Timestamp { ticks, offset }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn unix_time() {
        let t = UnixTime::from_millis(1_735_725_600_000);
        assert_eq!(t.as_millis(), 1_735_725_600_000);
        assert_eq!(t.plus_secs(10).as_millis(), 1_735_725_610_000);
        assert!(t.plus_millis(-1) < t);
        assert_eq!(
            UnixTime::from_millis(i64::MAX)
                .plus_secs(u32::MAX)
                .as_millis(),
            i64::MAX
        );
        assert_eq!(t.to_timestamp().format(), "2025-01-01T10:00:00Z");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn rfc3339_round_trips() {
        let cases: &[(&str, i64, i16)] = &[
            ("2022-05-12T00:02:07.541482Z", BASE_SECS * T + 5_414_820, 0),
            ("2022-05-12T00:02:07.500Z", BASE_SECS * T + 5_000_000, 0),
            ("2022-05-12T00:02:07.5339928Z", BASE_SECS * T + 5_339_928, 0),
            ("2022-05-12T02:02:07+02:00", BASE_SECS * T, 120),
            ("2022-05-12T00:02:07Z", BASE_SECS * T, 0),
            ("2022-05-12T00:02:07.001Z", BASE_SECS * T + 10_000, 0),
            ("2022-05-12T00:02:07.000001Z", BASE_SECS * T + 10, 0),
            ("2022-05-12T00:02:07.0000001Z", BASE_SECS * T + 1, 0),
            ("1970-01-01T00:00:00Z", 0, 0),
            ("1969-12-31T23:59:59.9999999Z", -1, 0),
            ("0001-01-01T00:00:00Z", -621_355_968_000_000_000, 0),
            ("9999-12-31T23:59:59.9999999Z", 2_534_023_007_999_999_999, 0),
            ("2024-02-29T12:00:00Z", 1_709_208_000 * T, 0),
            ("2000-02-29T00:00:00Z", 951_782_400 * T, 0),
            ("2022-05-11T22:32:07-01:30", BASE_SECS * T, -90),
            ("2022-05-12T14:02:07+14:00", BASE_SECS * T, 840),
        ];
        for &(text, ticks, offset) in cases {
            let parsed = Timestamp::parse_rfc3339(text);
            assert_eq!(parsed, Ok(ts(ticks, offset)), "{text}");
            assert_eq!(ts(ticks, offset).format(), text, "{text}");
            assert_eq!(ts(ticks, offset).to_string(), text, "{text}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn rfc3339_normalises_fraction_and_case() {
        let cases: &[(&str, &str)] = &[
            ("2022-05-12T00:02:07.5Z", "2022-05-12T00:02:07.500Z"),
            ("2022-05-12T00:02:07.50Z", "2022-05-12T00:02:07.500Z"),
            ("2022-05-12T00:02:07.5000000Z", "2022-05-12T00:02:07.500Z"),
            ("2022-05-12T00:02:07.0Z", "2022-05-12T00:02:07Z"),
            ("2022-05-12T00:02:07.12Z", "2022-05-12T00:02:07.120Z"),
            ("2022-05-12T00:02:07.1234Z", "2022-05-12T00:02:07.123400Z"),
            // Digits beyond the 7th are truncated, not rounded.
            (
                "2022-05-12T00:02:07.123456789Z",
                "2022-05-12T00:02:07.1234567Z",
            ),
            (
                "2022-05-12T00:02:07.999999999Z",
                "2022-05-12T00:02:07.9999999Z",
            ),
            (
                "2022-05-12T00:02:07.12345670000000000000000001Z",
                "2022-05-12T00:02:07.1234567Z",
            ),
            ("2022-05-12t00:02:07z", "2022-05-12T00:02:07Z"),
            ("2022-05-12T00:02:07+00:00", "2022-05-12T00:02:07Z"),
            ("2022-05-12T00:02:07-00:00", "2022-05-12T00:02:07Z"),
            ("2022-05-12T00:02:07+05:45", "2022-05-12T00:02:07+05:45"),
        ];
        for &(input, expected) in cases {
            let parsed = Timestamp::parse_rfc3339(input);
            assert_eq!(
                parsed.map(|t| t.format()),
                Ok(expected.to_string()),
                "{input}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn rfc3339_offsets() {
        // (input, utc ticks, offset minutes, format(), to_utc().format())
        let cases: &[(&str, i64, i16, &str, &str)] = &[
            (
                "2022-05-12T02:02:07+02:00",
                BASE_SECS * T,
                120,
                "2022-05-12T02:02:07+02:00",
                "2022-05-12T00:02:07Z",
            ),
            // Negative offset crossing midnight forwards.
            (
                "2022-05-11T23:30:00-02:00",
                1_652_319_000 * T,
                -120,
                "2022-05-11T23:30:00-02:00",
                "2022-05-12T01:30:00Z",
            ),
            // Negative offset crossing a year boundary.
            (
                "2021-12-31T20:00:00.25-05:00",
                1_640_998_800 * T + 2_500_000,
                -300,
                "2021-12-31T20:00:00.250-05:00",
                "2022-01-01T01:00:00.250Z",
            ),
            // Positive offset crossing midnight backwards.
            (
                "2022-03-01T00:30:00+01:00",
                1_646_091_000 * T,
                60,
                "2022-03-01T00:30:00+01:00",
                "2022-02-28T23:30:00Z",
            ),
            (
                "2024-03-01T00:30:00+01:00",
                1_709_249_400 * T,
                60,
                "2024-03-01T00:30:00+01:00",
                "2024-02-29T23:30:00Z",
            ),
        ];
        for &(input, ticks, offset, formatted, utc) in cases {
            let parsed = Timestamp::parse_rfc3339(input);
            assert_eq!(parsed, Ok(ts(ticks, offset)), "{input}");
            let t = ts(ticks, offset);
            assert_eq!(t.format(), formatted, "{input}");
            assert_eq!(t.offset_minutes(), offset);
            assert_eq!(t.utc_ticks(), ticks);
            assert!(!t.is_utc());
            assert_eq!(t.to_utc(), ts(ticks, 0));
            assert!(t.to_utc().is_utc());
            assert_eq!(t.to_utc().format(), utc, "{input}");
            assert!(t.same_instant(&t.to_utc()));
            assert_ne!(t, t.to_utc());
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn rfc3339_rejects() {
        let cases: &[&str] = &[
            "",
            "2022",
            "2022-05-12",
            "2022-05-12T00:02:07",
            "2022-05-12T00:02:07.5",
            "2022-13-01T00:00:00Z",
            "2022-00-01T00:00:00Z",
            "2022-01-00T00:00:00Z",
            "2022-01-32T00:00:00Z",
            "2022-04-31T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "2022-05-12T24:00:00Z",
            "2022-05-12T23:60:00Z",
            "2022-05-12T23:59:60Z",
            "2022-05-12T00:02:07Zx",
            "2022-05-12T00:02:07Z ",
            " 2022-05-12T00:02:07Z",
            "2022-05-12 00:02:07Z",
            "2022-05-12T00:02:07.Z",
            "2022-05-12T00:02:07,5Z",
            "2022-05-12T00:02Z",
            "2022-05-12T0:02:07Z",
            "2022-5-12T00:02:07Z",
            "22022-05-12T00:02:07Z",
            "+2022-05-12T00:02:07Z",
            "2022-05-12T00:02:07+0200",
            "2022-05-12T00:02:07+02",
            "2022-05-12T00:02:07+02:0",
            "2022-05-12T00:02:07+15:00",
            "2022-05-12T00:02:07+02:60",
            "2022-05-12T00:02:07+02:00:00",
            "2022-05-12T00:02:07UTC",
            "2022/05/12T00:02:07Z",
            "2022-05-12T00-02-07Z",
            "２０２２-05-12T00:02:07Z",
            "2022-05-12T00:02:07.５Z",
            "garbage",
        ];
        for &input in cases {
            assert_eq!(
                Timestamp::parse_rfc3339(input),
                Err(TimeError::Invalid),
                "{input:?}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn leap_days() {
        let cases: &[(&str, bool)] = &[
            ("2024-02-29T00:00:00Z", true),
            ("2023-02-29T00:00:00Z", false),
            ("2000-02-29T00:00:00Z", true),
            ("2100-02-29T00:00:00Z", false),
            ("2400-02-29T00:00:00Z", true),
            ("2023-02-28T23:59:59Z", true),
        ];
        for &(input, valid) in cases {
            assert_eq!(Timestamp::parse_rfc3339(input).is_ok(), valid, "{input}");
        }
        assert_eq!(
            Timestamp::parse_rfc3339("2024-02-29T00:00:00Z").map(|t| t.unix_millis()),
            Ok(1_709_164_800_000)
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn unix_millis_conversions() {
        // (ms, format, unix_millis back)
        let cases: &[(i64, &str)] = &[
            (0, "1970-01-01T00:00:00Z"),
            (1, "1970-01-01T00:00:00.001Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (1_652_313_727_541, "2022-05-12T00:02:07.541Z"),
            (1_652_313_727_000, "2022-05-12T00:02:07Z"),
            (951_868_799_999, "2000-02-29T23:59:59.999Z"),
            (-62_135_596_800_000, "0001-01-01T00:00:00Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ];
        for &(ms, text) in cases {
            let t = Timestamp::from_unix_millis(ms);
            assert_eq!(t.format(), text, "{ms}");
            assert_eq!(t.unix_millis(), ms);
            assert_eq!(t.utc_ticks(), ms * TICKS_PER_MILLI);
            assert_eq!(t.offset_minutes(), 0);
            assert!(t.is_utc());
            assert_eq!(Timestamp::parse_rfc3339(text), Ok(t));
        }
        // Floor division for sub-millisecond ticks.
        let floor: &[(i64, i64)] = &[
            (0, 0),
            (9_999, 0),
            (10_000, 1),
            (-1, -1),
            (-10_000, -1),
            (-10_001, -2),
        ];
        for &(ticks, ms) in floor {
            assert_eq!(
                Timestamp::from_utc_ticks(ticks).unix_millis(),
                ms,
                "{ticks}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn extreme_values_format_without_panicking() {
        let cases: &[(Timestamp, &str)] = &[
            (
                Timestamp::from_unix_millis(i64::MAX),
                "31197-09-14T02:48:05.4775807Z",
            ),
            (
                Timestamp::from_unix_millis(i64::MIN),
                "-27258-04-19T21:11:54.5224192Z",
            ),
            (ts(i64::MAX, 899), "31197-09-14T02:48:05.4775807+14:59"),
            (ts(i64::MIN, -899), "-27258-04-19T21:11:54.5224192-14:59"),
            (ts(-621_355_968_000_000_000, 0), "0001-01-01T00:00:00Z"),
            (
                ts(-621_355_968_000_000_000 - 1, 0),
                "0000-12-31T23:59:59.9999999Z",
            ),
        ];
        for (t, text) in cases {
            assert_eq!(t.format(), *text);
            assert_eq!(t.to_string(), *text);
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn write_to_appends() {
        let mut out = String::from("time=");
        Timestamp::from_unix_millis(1_652_313_727_500).write_to(&mut out);
        out.push(';');
        ts(BASE_SECS * T, -60).write_to(&mut out);
        assert_eq!(
            out,
            "time=2022-05-12T00:02:07.500Z;2022-05-11T23:02:07-01:00"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ordering_is_by_instant_then_offset() {
        let a = ts(100, 60);
        let b = ts(100, 0);
        let c = ts(99, 840);
        let d = ts(101, -600);
        let mut v: Vec<Timestamp> = alloc::vec![d, a, c, b];
        v.sort();
        assert_eq!(v, alloc::vec![c, b, a, d]);
        let cases: &[(Timestamp, Timestamp, Ordering, Ordering)] = &[
            (a, b, Ordering::Equal, Ordering::Greater),
            (b, a, Ordering::Equal, Ordering::Less),
            (c, a, Ordering::Less, Ordering::Less),
            (d, c, Ordering::Greater, Ordering::Greater),
            (a, a, Ordering::Equal, Ordering::Equal),
        ];
        for (x, y, instant, full) in cases {
            assert_eq!(x.cmp_instant(y), *instant, "{x:?} {y:?}");
            assert_eq!(x.cmp(y), *full, "{x:?} {y:?}");
            assert_eq!(x.partial_cmp(y), Some(*full));
            assert_eq!(x.same_instant(y), *instant == Ordering::Equal);
            assert_eq!(x == y, *full == Ordering::Equal);
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn query_dates() {
        // (input, utc ticks, offset, has_designator)
        let cases: &[(&str, i64, i16, bool)] = &[
            ("2020-01-01Z", 1_577_836_800 * T, 0, true),
            ("2020-01-01z", 1_577_836_800 * T, 0, true),
            ("2020-01-01", 1_577_836_800 * T, 0, false),
            ("  2020-01-01\t", 1_577_836_800 * T, 0, false),
            (
                "2022-07-07T11:00:53.3917Z",
                1_657_191_653 * T + 3_917_000,
                0,
                true,
            ),
            ("2020-01-01T10:00:00+0100", 1_577_869_200 * T, 60, true),
            ("2020-01-01T10:00:00+01:00", 1_577_869_200 * T, 60, true),
            ("2020-01-01T10:00:00+01", 1_577_869_200 * T, 60, true),
            ("2020-01-01T10:00:00-0130", 1_577_878_200 * T, -90, true),
            ("2020-01-01 10:00", 1_577_872_800 * T, 0, false),
            ("2020-01-01t10:00", 1_577_872_800 * T, 0, false),
            ("2020-01-01T10:00Z", 1_577_872_800 * T, 0, true),
            ("2020-01-01T10:00+02:00", 1_577_865_600 * T, 120, true),
            ("2020-01-01 10:00:30", 1_577_872_830 * T, 0, false),
            (
                "2020-01-01T10:00:30.123456789",
                1_577_872_830 * T + 1_234_567,
                0,
                false,
            ),
            ("2020-01-01+01:00", 1_577_833_200 * T, 60, true),
            ("2020-01-01-05", 1_577_854_800 * T, -300, true),
            ("2024-02-29T23:59:59Z", 1_709_251_199 * T, 0, true),
        ];
        for &(input, ticks, offset, designator) in cases {
            assert_eq!(
                Timestamp::parse_query(input),
                Ok((ts(ticks, offset), designator)),
                "{input:?}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn query_rejects() {
        let cases: &[&str] = &[
            "",
            "   ",
            "garbage",
            "2020",
            "2020-01",
            "2020-1-1",
            "2020-13-01",
            "2023-02-29",
            "2020-01-01T",
            "2020-01-01T10",
            "2020-01-01T10:0",
            "2020-01-01T24:00",
            "2020-01-01T10:60",
            "2020-01-01T10:00:60",
            "2020-01-01T10:00:00.",
            "2020-01-01  10:00",
            "2020-01-01T10:00:00 Z",
            "2020-01-01T10:00:00+1",
            "2020-01-01T10:00:00+15:00",
            "2020-01-01T10:00:00+01:60",
            "2020-01-01T10:00:00+01:0",
            "2020-01-01T10:00:00+010",
            "2020-01-01T10:00:00+01000",
            "2020-01-01T10:00:00ZZ",
            "2020-01-01T10:00:00Zx",
            "2020-01-01x",
            "0000-01-01",
        ];
        for &input in cases {
            assert_eq!(
                Timestamp::parse_query(input),
                Err(TimeError::Invalid),
                "{input:?}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn civil_conversion_matches_day_by_day_count() {
        // Walk every day from 0001-01-01 to 9999-12-31 and check both directions.
        let mut days = days_from_civil(1, 1, 1);
        assert_eq!(days, -719_162);
        for year in 1..=9999i64 {
            for month in 1..=12u32 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(days_from_civil(year, month, day), days);
                    assert_eq!(civil_from_days(days), (year, month, day));
                    days += 1;
                }
            }
        }
        assert_eq!(days, days_from_civil(10_000, 1, 1));
        let fixed: &[(i64, (i64, u32, u32))] = &[
            (0, (1970, 1, 1)),
            (-1, (1969, 12, 31)),
            (19_124, (2022, 5, 12)),
            (-719_468, (0, 3, 1)),
            (-719_469, (0, 2, 29)),
        ];
        for &(d, civil) in fixed {
            assert_eq!(civil_from_days(d), civil, "{d}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn error_display() {
        assert_eq!(TimeError::Invalid.to_string(), "invalid timestamp");
    }
}
