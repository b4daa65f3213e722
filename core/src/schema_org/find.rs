//! Finding the `Recipe` node: in a JSON-LD document (top level, arrays, `@graph`, or nested
//! under another node such as a `WebPage`'s `mainEntity`; `@type` a string or an array, as
//! `Recipe`, `schema:Recipe` or the full IRI), and finding the JSON-LD in an HTML page.
//!
//! The page is not parsed as HTML: only `<script type="application/ld+json">` elements are
//! wanted, and a script element's content is raw text that ends at the first `</script`
//! (HTML Living Standard, "script data state"), so a scanner finds exactly what a full parser
//! would, in one pass with no tree (ADR 0028 has the measurements and the crates weighed).

use serde_json::{Map, Value};

/// How deep a document is searched: deeper nesting is not a page, it is an attack on the
/// stack.
const MAX_DEPTH: usize = 64;

fn is_recipe_type(value: &Value) -> bool {
    let is = |t: &str| {
        matches!(
            t,
            "Recipe" | "schema:Recipe" | "http://schema.org/Recipe" | "https://schema.org/Recipe"
        )
    };
    match value {
        Value::String(t) => is(t),
        Value::Array(types) => types.iter().any(|t| t.as_str().is_some_and(is)),
        _ => false,
    }
}

/// Every `Recipe` node in document order (a recipe is not searched for recipes inside it).
pub fn recipes(document: &Value) -> Vec<&Map<String, Value>> {
    fn walk<'a>(value: &'a Value, depth: usize, found: &mut Vec<&'a Map<String, Value>>) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::Object(node) if node.get("@type").is_some_and(is_recipe_type) => {
                found.push(node);
            }
            Value::Object(node) => {
                for child in node.values() {
                    walk(child, depth + 1, found);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, depth + 1, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(document, 0, &mut found);
    found
}

/// Byte offset of the first `needle` (ASCII, lower-case, starting with `<`) in `haystack` at
/// or after `from`, ignoring ASCII case. Jumps from `<` to `<`: a page is mostly text between
/// tags, and this is the scan's whole cost.
fn find_tag_ci(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += haystack.get(at..)?.iter().position(|&b| b == b'<')?;
        if haystack
            .get(at..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
        {
            return Some(at);
        }
        at += 1;
    }
}

/// Byte offset of the first `needle` (ASCII, lower-case) in `haystack` at or after `from`,
/// ignoring ASCII case (for the short attribute text of one tag).
fn find_ci(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|at| at + from)
}

/// The value of attribute `name` in a start tag's attribute text, unquoted.
fn attribute<'a>(attributes: &'a str, name: &str) -> Option<&'a str> {
    let bytes = attributes.as_bytes();
    let mut at = 0;
    while let Some(found) = find_ci(bytes, name.as_bytes(), at) {
        at = found + name.len();
        let before_ok = found == 0
            || bytes
                .get(found - 1)
                .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/');
        let rest = attributes.get(at..)?.trim_start();
        let Some(value) = rest.strip_prefix('=').map(str::trim_start) else {
            continue;
        };
        if !before_ok {
            continue;
        }
        return Some(match value.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let inner = value.get(1..)?;
                inner.get(..inner.find(quote)?)?
            }
            _ => value.get(
                ..value
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(value.len()),
            )?,
        });
    }
    None
}

/// The end of a start tag beginning at `from` (just past `<script`): the offset of its `>`,
/// skipping any inside quoted attribute values.
fn tag_end(html: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (i, b) in html.iter().enumerate().skip(from) {
        match (quote, *b) {
            (None, b'"' | b'\'') => quote = Some(*b),
            (Some(q), b) if b == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The text of every `<script type="application/ld+json">` element, in page order, with an
/// HTML comment or CDATA wrapper around it removed.
pub fn json_ld_scripts(html: &str) -> Vec<&str> {
    let bytes = html.as_bytes();
    let mut scripts = Vec::new();
    let mut at = 0;
    while let Some(start) = find_tag_ci(bytes, b"<script", at) {
        let after_name = start + "<script".len();
        at = after_name;
        if !bytes
            .get(after_name)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        {
            continue;
        }
        let Some(end) = tag_end(bytes, after_name) else {
            break;
        };
        let attributes = html.get(after_name..end).unwrap_or_default();
        let content_start = end + 1;
        let Some(close) = find_tag_ci(bytes, b"</script", content_start) else {
            break;
        };
        at = close;
        let is_json_ld = attribute(attributes, "type").is_some_and(|t| {
            t.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/ld+json")
        });
        if is_json_ld && let Some(content) = html.get(content_start..close) {
            scripts.push(unwrap_script(content));
        }
    }
    scripts
}

fn unwrap_script(content: &str) -> &str {
    let mut text = content.trim();
    for (open, close) in [
        ("<!--", "-->"),
        ("<![CDATA[", "]]>"),
        ("//<![CDATA[", "//]]>"),
    ] {
        if let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix(close)) {
            text = inner.trim();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use serde_json::json;

    use super::*;

    #[test]
    fn the_recipe_node_is_found_wherever_sites_put_it() {
        for document in [
            json!({"@type": "Recipe", "name": "a"}),
            json!([{"@type": "WebSite"}, {"@type": "Recipe", "name": "a"}]),
            json!({"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, {"@type": ["Recipe", "NewsArticle"], "name": "a"}]}),
            json!({"@type": "WebPage", "mainEntity": {"@type": "schema:Recipe", "name": "a"}}),
            json!({"@type": "http://schema.org/Recipe", "name": "a"}),
        ] {
            let found = recipes(&document);
            assert_eq!(found.len(), 1, "{document}");
            assert_eq!(found[0]["name"], "a");
        }
        assert!(recipes(&json!({"@type": "Article", "name": "Recipe"})).is_empty());
        assert!(recipes(&json!({"@type": "Recipes"})).is_empty());
    }

    #[test]
    fn a_deeply_nested_document_is_searched_only_so_far() {
        let mut document = json!({"@type": "Recipe", "name": "deep"});
        for _ in 0..100 {
            document = json!([document]);
        }
        assert!(recipes(&document).is_empty());
    }

    #[test]
    fn json_ld_scripts_are_found_whatever_the_markup_around_them() {
        let html = r#"<html><head>
            <SCRIPT type="text/javascript">var x = "<script type='application/ld+json'>";</SCRIPT>
            <script type='application/ld+json' class="yoast">{"a":1}</script>
            <script data-x="a>b" type=application/ld+json>
              <!-- {"b":2} -->
            </Script >
            <script typex="application/ld+json">{"no":1}</script>
            <script type="application/ld+json; charset=utf-8">{"c":3}</script>
            <scripts type="application/ld+json">{"no":2}</scripts>
        </head></html>"#;
        assert_eq!(
            json_ld_scripts(html),
            vec![r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#]
        );
    }

    #[test]
    fn an_unclosed_script_ends_the_search() {
        assert!(json_ld_scripts(r#"<script type="application/ld+json">{"a":1}"#).is_empty());
    }
}

#[cfg(test)]
mod measure {
    #![allow(clippy::unwrap_used, clippy::print_stdout)]

    /// `cargo test -p gota-core --lib schema_org::find::measure -- --ignored --nocapture`:
    /// the scan of the corpus's largest page, grown to the import limit with the markup and
    /// inline scripts real pages carry (ADR 0028 records the numbers).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn scan_of_the_largest_page() {
        let (_, page) = gota_testkit::fixtures::import_page("yoast-graph.html");
        let filler = "<div class=\"wp-block\"><p>Some <a href=\"/x\">text</a> &amp; more.</p>\
                      <script>var a = '<div>' + \"</scr\" + \"ipt>\";</script></div>\n";
        let mut big = String::new();
        while big.len() + page.len() < gota_domain::limits::IMPORT_HTML_BYTES_MAX - filler.len() {
            big.push_str(filler);
        }
        big.push_str(page);
        let rounds = 20;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            let scripts = super::json_ld_scripts(std::hint::black_box(&big));
            assert_eq!(scripts.len(), 1);
        }
        let scan = started.elapsed() / rounds;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            let script = super::json_ld_scripts(&big)[0];
            let document: serde_json::Value = serde_json::from_str(script).unwrap();
            let node = super::recipes(&document)[0];
            std::hint::black_box(crate::schema_org::import(node));
        }
        let all = started.elapsed() / rounds;
        println!(
            "page {} bytes: scan {scan:?}, scan + JSON + find + map {all:?}",
            big.len()
        );
    }
}
