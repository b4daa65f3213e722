//! A CloudWatch alarm state change, as CloudWatch publishes it to an SNS topic: the SNS
//! `Message` is the alarm as a JSON *string* (`AlarmName`, `NewStateValue`, `OldStateValue`,
//! `NewStateReason`, `StateChangeTime`, `Region`, `AlarmArn`, `Trigger`, …). Metric, metric-math
//! and composite alarms share the fields read here; everything else is ignored.

use serde::Deserialize;

/// Where the runbooks live; every alarm description of the stack ends with
/// `Runbook: doc/operations.md#<anchor>` (infra/test/chat-relay.test.ts holds them to it).
const RUNBOOK_MARKER: &str = "doc/operations.md#";

/// The three states of a CloudWatch alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AlarmState {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// An alarm notification. Only built by [`Alarm::parse`]: a value exists only for a message
/// that has a name and both states.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alarm {
    pub alarm_name: String,
    /// `null` when the alarm has none.
    #[serde(default)]
    pub alarm_description: Option<String>,
    pub new_state_value: AlarmState,
    pub old_state_value: AlarmState,
    #[serde(default)]
    pub new_state_reason: String,
    /// `2024-05-01T12:00:00.000+0000`, as CloudWatch wrote it.
    #[serde(default)]
    pub state_change_time: String,
    /// The region's display name ("US East (N. Virginia)"), not its code.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub alarm_arn: Option<String>,
}

impl Alarm {
    /// The alarm in an SNS message, or `None` when the message is something else (a test
    /// publish, another service's notification).
    pub fn parse(message: &str) -> Option<Self> {
        serde_json::from_str(message).ok()
    }

    /// The region code from the alarm ARN (`arn:aws:cloudwatch:<region>:<account>:alarm:<name>`).
    pub fn region_code(&self) -> Option<&str> {
        let arn = self.alarm_arn.as_deref()?;
        let mut parts = arn.splitn(6, ':');
        let (_arn, _partition, service, region) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        (service == "cloudwatch" && !region.is_empty()).then_some(region)
    }

    /// The runbook section named in the description (`… Runbook: doc/operations.md#lambda-errors`).
    pub fn runbook_anchor(&self) -> Option<&str> {
        let description = self.alarm_description.as_deref()?;
        let start = description.find(RUNBOOK_MARKER)? + RUNBOOK_MARKER.len();
        let rest = description.get(start..)?;
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        rest.get(..end).filter(|anchor| !anchor.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(description: Option<&str>, arn: Option<&str>) -> Alarm {
        Alarm {
            alarm_name: "a".into(),
            alarm_description: description.map(Into::into),
            new_state_value: AlarmState::Alarm,
            old_state_value: AlarmState::Ok,
            new_state_reason: String::new(),
            state_change_time: String::new(),
            region: None,
            alarm_arn: arn.map(Into::into),
        }
    }

    #[test]
    fn the_runbook_anchor_is_read_from_the_description() {
        let a = alarm(
            Some("The function crashed. Runbook: doc/operations.md#lambda-errors"),
            None,
        );
        assert_eq!(a.runbook_anchor(), Some("lambda-errors"));
        let a = alarm(Some("See doc/operations.md#api-5xx-rate."), None);
        assert_eq!(a.runbook_anchor(), Some("api-5xx-rate"));
        assert_eq!(alarm(Some("no runbook here"), None).runbook_anchor(), None);
        assert_eq!(
            alarm(Some("doc/operations.md# empty"), None).runbook_anchor(),
            None
        );
        assert_eq!(alarm(None, None).runbook_anchor(), None);
    }

    #[test]
    fn the_region_code_comes_from_a_cloudwatch_alarm_arn_only() {
        let arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:Gota-prod-Api5xxRate";
        assert_eq!(alarm(None, Some(arn)).region_code(), Some("eu-west-1"));
        assert_eq!(
            alarm(None, Some("arn:aws:sns:eu-west-1:1:t")).region_code(),
            None
        );
        assert_eq!(alarm(None, Some("EXAMPLE")).region_code(), None);
        assert_eq!(alarm(None, None).region_code(), None);
    }

    #[test]
    fn a_message_without_states_is_not_an_alarm() {
        assert!(Alarm::parse(r#"{"AlarmName":"x"}"#).is_none());
        assert!(Alarm::parse("hello from the console").is_none());
        assert!(
            Alarm::parse(r#"{"AlarmName":"x","NewStateValue":"MAYBE","OldStateValue":"OK"}"#)
                .is_none()
        );
        let minimal = Alarm::parse(
            r#"{"AlarmName":"x","NewStateValue":"OK","OldStateValue":"INSUFFICIENT_DATA","AlarmDescription":null}"#,
        )
        .expect("an alarm");
        assert_eq!(minimal.new_state_value, AlarmState::Ok);
        assert_eq!(minimal.alarm_description, None);
    }
}
