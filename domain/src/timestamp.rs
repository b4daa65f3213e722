//! RFC 3339 in UTC with `Z`, whole seconds, on both ways, so that every timestamp the
//! service writes has one shape whatever offset or precision it was built with.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

pub(crate) fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

fn utc(t: OffsetDateTime) -> Option<OffsetDateTime> {
    t.checked_to_offset(UtcOffset::UTC).map(truncate)
}

/// Written by hand into a stack buffer: the timestamp is already UTC and whole seconds,
/// so `YYYY-MM-DDTHH:MM:SSZ` is all RFC 3339 asks, and `time`'s general formatter (a
/// `String` and a walk over a format description per timestamp, twice per recipe) showed
/// in the profile of a list. Years outside 0000–9999 have no RFC 3339 form, as for `time`.
pub(crate) fn serialize<S: Serializer>(
    t: &OffsetDateTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let t = utc(*t).ok_or_else(|| S::Error::custom("timestamp out of range in UTC"))?;
    let mut text = [0u8; 20];
    write(t, &mut text).ok_or_else(|| S::Error::custom("year outside 0000-9999"))?;
    // Only ASCII digits and separators were written.
    let text = std::str::from_utf8(&text).map_err(S::Error::custom)?;
    serializer.serialize_str(text)
}

/// `t` (UTC, whole seconds) as `YYYY-MM-DDTHH:MM:SSZ`; `None` for a year without four
/// digits.
fn write(t: OffsetDateTime, out: &mut [u8; 20]) -> Option<()> {
    let year = u16::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let (hour, minute, second) = t.to_hms();
    let fields: [(u16, usize); 6] = [
        (year, 4),
        (u16::from(u8::from(t.month())), 2),
        (u16::from(t.day()), 2),
        (u16::from(hour), 2),
        (u16::from(minute), 2),
        (u16::from(second), 2),
    ];
    let mut at = 0;
    for (i, (value, width)) in fields.into_iter().enumerate() {
        let mut value = value;
        for digit in out.get_mut(at..at + width)?.iter_mut().rev() {
            // `value % 10` is a single digit.
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
        at += width;
        *out.get_mut(at)? = b"--T::Z".get(i).copied()?;
        at += 1;
    }
    Some(())
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<OffsetDateTime, D::Error> {
    let text = String::deserialize(deserializer)?;
    let t = OffsetDateTime::parse(&text, &Rfc3339).map_err(D::Error::custom)?;
    utc(t).ok_or_else(|| D::Error::custom("timestamp out of range in UTC"))
}
