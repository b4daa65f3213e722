//! ISO 8601 durations as schema.org uses them (`prepTime`, `cookTime`, `totalTime`,
//! `timeRequired`): `PT1H30M`, `P0DT0H20M`, `PT90M`, `PT0.5H`, `P1DT2H`. Only the time
//! designators and days are read: years, months and weeks are not lengths of time a recipe
//! states (a month has no fixed number of minutes), so they are refused, not guessed.

/// Minutes in a duration, rounded to the nearest minute (half up); `None` when `text` is not
/// an ISO 8601 duration of days, hours, minutes and seconds.
pub fn parse_minutes(text: &str) -> Option<u64> {
    let text = text.trim();
    let rest = text.strip_prefix(['P', 'p'])?;
    let mut seconds = 0.0_f64;
    let mut in_time = false;
    let mut number = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            'T' | 't' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
            _ => {
                let value: f64 = number.parse().ok()?;
                number.clear();
                let unit = match (in_time, c.to_ascii_uppercase()) {
                    (false, 'D') => 86_400.0,
                    (true, 'H') => 3_600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => return None,
                };
                seconds += value * unit;
                any = true;
            }
        }
    }
    if !number.is_empty() || !any || !seconds.is_finite() || seconds > 1e12 {
        return None;
    }
    // Bounded above, so the cast cannot truncate.
    Some((seconds / 60.0).round() as u64)
}

/// A number of minutes as the shortest ISO 8601 duration in hours and minutes: `PT0M`,
/// `PT45M`, `PT2H`, `PT1H30M` (never days, which some readers mishandle).
pub fn format_minutes(minutes: u64) -> String {
    let (hours, minutes) = (minutes / 60, minutes % 60);
    match (hours, minutes) {
        (0, m) => format!("PT{m}M"),
        (h, 0) => format!("PT{h}H"),
        (h, m) => format!("PT{h}H{m}M"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_shape_sites_write_read_as_minutes() {
        for (text, minutes) in [
            ("PT1H30M", Some(90)),
            ("P0DT0H20M", Some(20)),
            ("PT90M", Some(90)),
            ("PT0.5H", Some(30)),
            ("P1DT2H", Some(26 * 60)),
            ("PT20M30S", Some(21)),
            ("PT20M29S", Some(20)),
            ("PT45S", Some(1)),
            ("pt10m", Some(10)),
            ("PT0M", Some(0)),
            ("PT", None),
            ("P", None),
            ("PT10", None),
            ("P1M", None),
            ("P1Y", None),
            ("PT1X", None),
            ("20 minutes", None),
            ("", None),
        ] {
            assert_eq!(parse_minutes(text), minutes, "{text}");
        }
    }

    #[test]
    fn formatted_minutes_read_back_exactly() {
        for minutes in [0, 1, 59, 60, 61, 90, 600, 10_080] {
            let text = format_minutes(minutes);
            assert_eq!(parse_minutes(&text), Some(minutes), "{text}");
        }
        assert_eq!(format_minutes(90), "PT1H30M");
        assert_eq!(format_minutes(120), "PT2H");
        assert_eq!(format_minutes(5), "PT5M");
    }
}
