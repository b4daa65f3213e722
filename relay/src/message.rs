//! The chat message for an alarm, in the two markups the relay speaks: Slack's `mrkdwn` (also
//! what Slack-compatible incoming webhooks read) and Telegram's HTML.
//!
//! Everything that comes from the alarm is untrusted text: an alarm name may hold `<`, `&`, `*`
//! or `_`. Slack has no escape for `*`/`_`/`~`, only `&amp;`/`&lt;`/`&gt;` for its control
//! characters (<https://api.slack.com/reference/surfaces/formatting#escaping>), so alarm text is
//! put inside inline code, where mrkdwn applies no formatting, with those three escaped and
//! backticks replaced. Telegram's HTML mode formats only through tags, so escaping `<`, `>`, `&`
//! (and `"` inside attributes) is complete
//! (<https://core.telegram.org/bots/api#html-style>).

use crate::alarm::{Alarm, AlarmState};

/// Longest piece of alarm text kept, in characters: far below Telegram's 4096-character
/// message limit and Slack's 40,000, whatever the alarm holds.
const MAX_FIELD_CHARS: usize = 600;

/// Links added to every message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The stage's CloudWatch dashboard.
    pub dashboard: Option<String>,
    /// Where `doc/operations.md` is published (a repository page); the alarm's anchor is appended.
    pub runbooks: Option<String>,
}

impl Links {
    /// The runbook section of `alarm`, or the runbook page when its description names none.
    pub fn runbook_for(&self, alarm: &Alarm) -> Option<String> {
        let base = self.runbooks.as_deref()?;
        let page = base.split('#').next().unwrap_or(base);
        Some(match alarm.runbook_anchor() {
            Some(anchor) => format!("{page}#{anchor}"),
            None => page.to_owned(),
        })
    }

    fn all(&self, alarm: &Alarm) -> Vec<(&'static str, String)> {
        let mut links = Vec::with_capacity(2);
        if let Some(dashboard) = &self.dashboard {
            links.push(("Dashboard", dashboard.clone()));
        }
        if let Some(runbook) = self.runbook_for(alarm) {
            links.push(("Runbook", runbook));
        }
        links
    }
}

fn headline(state: AlarmState) -> (&'static str, &'static str) {
    match state {
        AlarmState::Alarm => (":rotating_light:", "\u{1F6A8}"),
        AlarmState::Ok => (":white_check_mark:", "\u{2705}"),
        AlarmState::InsufficientData => (":grey_question:", "\u{2754}"),
    }
}

fn region(alarm: &Alarm) -> Option<String> {
    match (alarm.region.as_deref(), alarm.region_code()) {
        (Some(name), Some(code)) if name != code => Some(format!("{name} ({code})")),
        (Some(name), _) => Some(name.to_owned()),
        (None, Some(code)) => Some(code.to_owned()),
        (None, None) => None,
    }
}

fn truncated(text: &str) -> String {
    let flat = text.trim().replace(['\r', '\n'], " ");
    match flat.char_indices().nth(MAX_FIELD_CHARS) {
        Some((cut, _)) => format!("{}…", flat.get(..cut).unwrap_or_default()),
        None => flat,
    }
}

/// How one chat marks text up; [`lines`] writes the same message in either.
struct Markup {
    /// A state or a field label, in bold.
    bold: fn(&str) -> String,
    /// The alarm's name.
    name: fn(&str) -> String,
    /// Free text taken from the alarm (reason, description, region, time).
    text: fn(&str) -> String,
    /// A link: `(url, label)`.
    link: fn(&str, &str) -> String,
}

const SLACK: Markup = Markup {
    bold: |s| format!("*{s}*"),
    name: slack_code,
    text: slack_code,
    link: |url, label| format!("<{}|{label}>", slack_url(url)),
};

const TELEGRAM: Markup = Markup {
    bold: |s| format!("<b>{s}</b>"),
    name: |s| format!("<code>{}</code>", html(s)),
    text: html,
    link: |url, label| format!("<a href=\"{}\">{label}</a>", html_escape(url)),
};

/// The message's lines: headline, state change, reason, description, where and when, links.
fn lines(alarm: &Alarm, links: &Links, emoji: &str, markup: &Markup) -> Vec<String> {
    let field =
        |label: &str, value: &str| format!("{} {}", (markup.bold)(label), (markup.text)(value));
    let mut lines = vec![
        format!(
            "{emoji} {} {}",
            (markup.bold)(alarm.new_state_value.as_str()),
            (markup.name)(&alarm.alarm_name)
        ),
        format!(
            "{} {} → {}",
            (markup.bold)("State:"),
            alarm.old_state_value.as_str(),
            alarm.new_state_value.as_str()
        ),
    ];
    if !alarm.new_state_reason.trim().is_empty() {
        lines.push(field("Reason:", &alarm.new_state_reason));
    }
    if let Some(description) = alarm
        .alarm_description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        lines.push(field("Description:", description));
    }
    let mut when = Vec::new();
    if let Some(region) = region(alarm) {
        when.push(field("Region:", &region));
    }
    if !alarm.state_change_time.is_empty() {
        when.push(field("Since:", &alarm.state_change_time));
    }
    if !when.is_empty() {
        lines.push(when.join(" · "));
    }
    let links = links.all(alarm);
    if !links.is_empty() {
        lines.push(
            links
                .iter()
                .map(|(label, url)| (markup.link)(url, label))
                .collect::<Vec<_>>()
                .join(" · "),
        );
    }
    lines
}

/// The JSON body for a Slack (or Slack-compatible) incoming webhook.
pub fn slack(alarm: &Alarm, links: &Links) -> serde_json::Value {
    let (emoji, _) = headline(alarm.new_state_value);
    serde_json::json!({
        "text": lines(alarm, links, emoji, &SLACK).join("\n"),
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// The text of a Telegram `sendMessage` with `parse_mode: "HTML"`.
pub fn telegram_html(alarm: &Alarm, links: &Links) -> String {
    let (_, emoji) = headline(alarm.new_state_value);
    lines(alarm, links, emoji, &TELEGRAM).join("\n")
}

/// Alarm text as Slack inline code: no formatting applies inside it.
fn slack_code(text: &str) -> String {
    let mut out = String::from("`");
    for c in truncated(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A backtick would end the code span; U+02CB looks the same and ends nothing.
            '`' => out.push('\u{2CB}'),
            c => out.push(c),
        }
    }
    out.push('`');
    out
}

/// A URL inside Slack's `<url|label>`: its control characters escaped, `|` percent-encoded.
fn slack_url(url: &str) -> String {
    url.replace('&', "&amp;")
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace('|', "%7C")
}

/// Alarm text for Telegram's HTML mode: escaped, and cut to fit a message.
fn html(text: &str) -> String {
    html_escape(&truncated(text))
}

/// Text or attribute value for Telegram's HTML mode, escaped and otherwise as it is (a link's
/// URL must not be cut or flattened like alarm text).
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: &str = "<!channel> R&D *bold* _it_ ~x~ `code` </code><b>";

    fn alarm(name: &str) -> Alarm {
        Alarm {
            alarm_name: name.into(),
            alarm_description: Some(
                "p99 > 1500 ms. Runbook: doc/operations.md#api-p99-latency".into(),
            ),
            new_state_value: AlarmState::Alarm,
            old_state_value: AlarmState::Ok,
            new_state_reason: "Threshold Crossed: 3 datapoints (OK -> ALARM transition).".into(),
            state_change_time: "2026-01-02T03:04:05.678+0000".into(),
            region: Some("EU (Ireland)".into()),
            alarm_arn: Some("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x".into()),
        }
    }

    fn links() -> Links {
        Links {
            dashboard: Some(
                "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=D&x=1".into(),
            ),
            runbooks: Some("https://github.com/acme/gota/blob/main/doc/operations.md".into()),
        }
    }

    #[test]
    fn slack_text_keeps_alarm_text_inside_code_with_control_characters_escaped() {
        let body = slack(&alarm(NASTY), &links());
        let text = body["text"].as_str().unwrap();
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            ":rotating_light: *ALARM* `&lt;!channel&gt; R&amp;D *bold* _it_ ~x~ \u{2CB}code\u{2CB} &lt;/code&gt;&lt;b&gt;`"
        );
        // No raw control character from the alarm survives anywhere in the message.
        assert!(!text.contains("<!channel>"));
        assert!(text.contains("(OK -&gt; ALARM transition)"));
        assert_eq!(body["unfurl_links"], false);
    }

    #[test]
    fn a_long_link_is_never_cut_like_alarm_text() {
        let long = format!("https://example.com/{}", "a".repeat(900));
        let links = Links {
            dashboard: Some(long.clone()),
            runbooks: None,
        };
        let html = telegram_html(&alarm("x"), &links);
        assert!(
            html.contains(&format!("<a href=\"{long}\">Dashboard</a>")),
            "{html}"
        );
        let slack = slack(&alarm("x"), &links)["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(slack.contains(&format!("<{long}|Dashboard>")), "{slack}");
    }

    #[test]
    fn slack_text_has_state_region_time_and_both_links() {
        let text = slack(&alarm("Gota-prod-Api"), &links())["text"]
            .as_str()
            .unwrap()
            .to_owned();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "*State:* OK → ALARM");
        assert_eq!(
            lines[4],
            "*Region:* `EU (Ireland) (eu-west-1)` · *Since:* `2026-01-02T03:04:05.678+0000`"
        );
        assert_eq!(
            lines[5],
            "<https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=D&amp;x=1|Dashboard> · \
             <https://github.com/acme/gota/blob/main/doc/operations.md#api-p99-latency|Runbook>"
        );
    }

    #[test]
    fn telegram_html_escapes_markup_and_leaves_asterisks_and_underscores_alone() {
        let text = telegram_html(&alarm(NASTY), &links());
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "\u{1F6A8} <b>ALARM</b> <code>&lt;!channel&gt; R&amp;D *bold* _it_ ~x~ `code` &lt;/code&gt;&lt;b&gt;</code>"
        );
        assert!(text.contains(
            "<a href=\"https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=D&amp;x=1\">Dashboard</a>"
        ));
        assert!(text.contains(
            "<a href=\"https://github.com/acme/gota/blob/main/doc/operations.md#api-p99-latency\">Runbook</a>"
        ));
    }

    #[test]
    fn long_alarm_text_is_cut_so_the_message_stays_within_chat_limits() {
        let mut a = alarm("n");
        a.new_state_reason = "<".repeat(10_000);
        let text = telegram_html(&a, &links());
        assert!(
            text.chars().count() < 4096,
            "{} chars",
            text.chars().count()
        );
        assert!(text.contains('…'));
    }

    #[test]
    fn without_a_runbook_anchor_the_link_is_the_runbook_page_and_without_links_there_is_no_link_line()
     {
        let mut a = alarm("n");
        a.alarm_description = None;
        assert_eq!(
            links().runbook_for(&a).as_deref(),
            Some("https://github.com/acme/gota/blob/main/doc/operations.md")
        );
        let text = telegram_html(&a, &Links::default());
        assert!(!text.contains("<a "));
    }
}
