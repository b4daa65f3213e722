//! Cleaning the text values pages put in JSON-LD: HTML entities (WordPress writes
//! `Mom&#039;s` and `&amp;` inside JSON strings), stray markup (`<p>` in descriptions), tags
//! made from keywords, and cutting text to a limit without splitting a character.

use unicode_normalization::UnicodeNormalization as _;

const NAMED: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", "\u{a0}"),
    ("ndash", "–"),
    ("mdash", "—"),
    ("hellip", "…"),
    ("lsquo", "‘"),
    ("rsquo", "’"),
    ("ldquo", "“"),
    ("rdquo", "”"),
    ("deg", "°"),
    ("frac12", "½"),
    ("frac14", "¼"),
    ("frac34", "¾"),
    ("frac13", "⅓"),
    ("frac23", "⅔"),
    ("times", "×"),
    ("copy", "©"),
    ("reg", "®"),
    ("trade", "™"),
    ("eacute", "é"),
    ("egrave", "è"),
    ("ecirc", "ê"),
    ("aacute", "á"),
    ("agrave", "à"),
    ("acirc", "â"),
    ("iacute", "í"),
    ("oacute", "ó"),
    ("ocirc", "ô"),
    ("uacute", "ú"),
    ("ccedil", "ç"),
    ("ntilde", "ñ"),
    ("auml", "ä"),
    ("ouml", "ö"),
    ("uuml", "ü"),
    ("ugrave", "ù"),
    ("igrave", "ì"),
    ("ograve", "ò"),
    ("icirc", "î"),
    ("ucirc", "û"),
    ("euml", "ë"),
    ("iuml", "ï"),
    ("aring", "å"),
    ("oslash", "ø"),
    ("szlig", "ß"),
];

/// Decodes numeric (`&#8217;`, `&#x2019;`) and common named entities once; anything else,
/// including a bare `&`, is left as written.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        // The longest name read is 10 bytes: look no further for its `;`, so that text full of
        // `&` and no `;` is not searched to its end from every `&`.
        let window = after.as_bytes().get(..11).unwrap_or(after.as_bytes());
        let decoded = window.iter().position(|&b| b == b';').and_then(|end| {
            let name = after.get(..end)?;
            let text = if let Some(number) = name.strip_prefix('#') {
                let code = match number.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => number.parse().ok()?,
                };
                char::from_u32(code).filter(|c| *c != '\0')?.to_string()
            } else {
                NAMED.iter().find(|(n, _)| *n == name)?.1.to_owned()
            };
            Some((text, end + 1))
        });
        match decoded {
            Some((text, used)) => {
                out.push_str(&text);
                rest = after.get(used..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes markup (`<p>`, `<br/>`, `</a>`): a `<` followed by a letter, `/` or `!` up to the
/// next `>`. `<br>` becomes a line break, so lines stay apart; a lone `<` ("a < b") stays.
fn strip_tags(text: &str) -> String {
    if !text.contains('<') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        let is_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        match is_tag.then(|| after.find('>')).flatten() {
            Some(end) => {
                let tag = after.get(..end).unwrap_or_default().to_ascii_lowercase();
                if tag.starts_with("br") || tag.starts_with("/p") {
                    out.push('\n');
                }
                rest = after.get(end + 1..).unwrap_or_default();
            }
            // No `>` after this `<` (or it opens no tag): when there is no `>` at all, no tag
            // follows either, so the rest is text — searching again from every later `<` would
            // make text full of `<` quadratic.
            None if is_tag => {
                out.push('<');
                out.push_str(after);
                return out;
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A text value as a Gota field takes it: markup removed, entities decoded, trimmed.
pub fn clean(text: &str) -> String {
    decode_entities(&strip_tags(text)).trim().to_owned()
}

/// `text` cut to at most `max` characters after NFC (how the domain counts), at a character
/// boundary, trimmed; `None` when it already fits.
pub fn cut(text: &str, max: usize) -> Option<String> {
    let normal: String = text.nfc().collect();
    (normal.chars().count() > max).then(|| {
        normal
            .chars()
            .take(max)
            .collect::<String>()
            .trim()
            .to_owned()
    })
}

/// A keyword as a tag (`a-z`, `0-9`, `-`): accents dropped, anything else a hyphen, at most
/// `max` characters; `None` when nothing is left.
pub fn slug(text: &str, max: usize) -> Option<String> {
    let mut out = String::new();
    for c in text.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.chars().take(max).collect();
    let out = out.trim_matches('-').to_owned();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_sites_write_are_decoded_once() {
        for (text, decoded) in [
            ("Mom&#039;s Pie", "Mom's Pie"),
            ("Mac &amp; Cheese", "Mac & Cheese"),
            ("Caf&eacute; &#x2019;s", "Café ’s"),
            ("&amp;amp;", "&amp;"),
            ("salt & pepper", "salt & pepper"),
            ("&unknown; &#xZZ; &", "&unknown; &#xZZ; &"),
            ("&#0;", "&#0;"),
        ] {
            assert_eq!(decode_entities(text), decoded, "{text}");
        }
    }

    #[test]
    fn markup_is_removed_and_lone_angle_brackets_stay() {
        assert_eq!(clean("<p>Mix <b>well</b>.</p>"), "Mix well.");
        assert_eq!(clean("one<br/>two"), "one\ntwo");
        assert_eq!(clean("a < b and c > d"), "a < b and c > d");
        assert_eq!(clean("  &lt;b&gt; stays text "), "<b> stays text");
    }

    /// Text as big as a page can carry (2 MiB), built so that every `<` or `&` opens something
    /// that never closes: each must be looked at once, not searched past to the end.
    #[test]
    fn hostile_text_is_cleaned_in_linear_time() {
        let size = gota_domain::limits::IMPORT_HTML_BYTES_MAX;
        for unit in ["<a", "< ", "&", "&#", "<!"] {
            let text = unit.repeat(size / unit.len());
            let started = std::time::Instant::now();
            let cleaned = clean(&text);
            let took = started.elapsed();
            assert!(
                cleaned.len() + 2 >= text.len(),
                "{unit:?}: nothing is removed"
            );
            // Linear is a few ms even unoptimised; the quadratic scan took minutes.
            assert!(
                took < std::time::Duration::from_secs(2),
                "{unit:?}: {took:?}"
            );
        }
    }

    #[test]
    fn keywords_become_tags() {
        assert_eq!(slug("Crème Brûlée", 40).as_deref(), Some("creme-brulee"));
        assert_eq!(slug(" Main Course ", 40).as_deref(), Some("main-course"));
        assert_eq!(slug("quick", 40).as_deref(), Some("quick"));
        assert_eq!(slug("日本", 40), None);
        assert_eq!(slug("abcdef", 3).as_deref(), Some("abc"));
    }

    #[test]
    fn text_is_cut_only_when_over_the_limit() {
        assert_eq!(cut("abc", 3), None);
        assert_eq!(cut("abcd", 3).as_deref(), Some("abc"));
        assert_eq!(cut("e\u{301}e\u{301}", 2), None);
    }
}
