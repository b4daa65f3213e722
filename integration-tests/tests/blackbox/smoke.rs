//! The scripts that run against a deployed stage — `ops/smoke.py` (`make smoke`) and the
//! Synthetics canary (`infra/canary`) — run here unchanged against the real binary, with a
//! moto Cognito pool to sign in to, so neither can rot between deploys.
//!
//! Stood in: the AWS CLI's `describe-stacks` (a script on PATH printing this run's outputs),
//! and for the canary the Synthetics runtime and the Secrets Manager client
//! (`infra/canary/stand-ins`). Sign-in is real InitiateAuth over HTTP, against moto.

use std::path::Path;
use std::process::{Command, Output};

use gota_testkit::{Api, Moto, PASSWORD, UserPool, repo_root, venv_bin};

struct Stage {
    _moto: Moto,
    pool: UserPool,
    api: Api,
    cognito_endpoint: String,
    _data: tempfile::TempDir,
}

async fn stage() -> Stage {
    let moto = Moto::start().await;
    let pool = UserPool::create(&moto, "gota").await;
    pool.add_user("smoke", &[]).await;
    let data = tempfile::tempdir().unwrap();
    let mut env = pool.env();
    env.push(("GOTA_DATA_DIR".into(), data.path().to_str().unwrap().into()));
    let api = Api::start(&env).await;
    Stage {
        cognito_endpoint: format!("{}/", moto.endpoint),
        _moto: moto,
        pool,
        api,
        _data: data,
    }
}

fn report(what: &str, output: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A stand-in `aws` that answers `cloudformation describe-stacks --stack-name Gota-smoke` with
/// this run's outputs, the way the real CLI prints them (`--output json`).
fn fake_aws_cli(dir: &Path, stage: &Stage) {
    let described = serde_json::json!({"Stacks": [{
        "StackName": "Gota-smoke",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/Gota-smoke/0b5e6f10-0000-0000-0000-000000000000",
        "Outputs": [
            {"OutputKey": "ApiUrl", "OutputValue": stage.api.url("/")},
            {"OutputKey": "UserPoolClientId", "OutputValue": stage.pool.client_id},
        ],
    }]});
    let script = format!(
        "#!/bin/sh\n[ \"$1 $2 $3 $4\" = 'cloudformation describe-stacks --stack-name Gota-smoke' ] || {{ echo \"unexpected: $*\" >&2; exit 254; }}\ncat <<'JSON'\n{described}\nJSON\n"
    );
    let path = dir.join("aws");
    std::fs::write(&path, script).unwrap();
    Command::new("chmod").arg("+x").arg(&path).status().unwrap();
}

fn smoke(stage: &Stage, bin: &Path, password: &str) -> Output {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new(venv_bin("python"))
        .arg(repo_root().join("ops/smoke.py"))
        .args([
            "--stack",
            "Gota-smoke",
            "--cognito-endpoint",
            &stage.cognito_endpoint,
        ])
        .env("PATH", path)
        .env("GOTA_SMOKE_USERNAME", "smoke")
        .env("GOTA_SMOKE_PASSWORD", password)
        .env("GOTA_TOKEN_USE", "access")
        .output()
        .unwrap()
}

fn canary(stage: &Stage, password: &str) -> Output {
    let secret = serde_json::json!({"username": "smoke", "password": password}).to_string();
    Command::new("node")
        .arg(repo_root().join("infra/canary/run-local.cjs"))
        .env("GOTA_API_URL", stage.api.url("/"))
        .env("GOTA_USER_POOL_CLIENT_ID", &stage.pool.client_id)
        .env(
            "GOTA_CANARY_SECRET_ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:canary-AbCdEf",
        )
        .env("GOTA_STAND_IN_SECRET_STRING", secret)
        .env("GOTA_COGNITO_ENDPOINT", &stage.cognito_endpoint)
        .env("GOTA_TOKEN_USE", "access")
        .env("AWS_REGION", "eu-west-1")
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_smoke_script_runs_the_crud_journey_from_the_stack_outputs_and_fails_on_a_bad_sign_in()
{
    let stage = stage().await;
    let bin = tempfile::tempdir().unwrap();
    fake_aws_cli(bin.path(), &stage);

    let passed = smoke(&stage, bin.path(), PASSWORD);
    let text = report("smoke.py", &passed);
    assert!(passed.status.success(), "{text}");
    for step in [
        "create: 201",
        "get: 200",
        "list: 200",
        "patch with If-Match: 200",
        "patch with a stale If-Match: 412",
        "delete: 204",
        "get after delete: 404",
        "smoke: passed",
    ] {
        assert!(text.contains(step), "missing {step:?} in {text}");
    }

    let refused = smoke(&stage, bin.path(), "Wrong-password-1");
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        report("smoke.py", &refused)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NotAuthorizedException"));
}

#[tokio::test]
async fn the_canary_script_passes_against_the_binary_and_fails_its_sign_in_step_on_a_wrong_password()
 {
    let stage = stage().await;

    let passed = canary(&stage, PASSWORD);
    let text = report("canary", &passed);
    assert!(passed.status.success(), "{text}");
    let run: serde_json::Value = serde_json::from_slice(&passed.stdout).expect(&text);
    assert_eq!(run["passed"], true, "{text}");
    let steps: Vec<(&str, bool)> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [("health", true), ("sign-in", true), ("list-recipes", true)]
    );

    let failed = canary(&stage, "Wrong-password-1");
    let text = report("canary", &failed);
    assert_eq!(failed.status.code(), Some(1), "{text}");
    let run: serde_json::Value = serde_json::from_slice(&failed.stdout).expect(&text);
    assert_eq!(run["steps"][1]["name"], "sign-in", "{text}");
    assert_eq!(run["steps"][1]["passed"], false, "{text}");
    assert!(
        !text.contains("Wrong-password-1"),
        "the password leaked: {text}"
    );
}

/// `make canary-user` against a stand-in `aws` that records what it is asked and answers
/// `admin-create-user` as `$CREATE_USER` says: the real CLI's calls are what is tested.
fn canary_user(create_user: &str) -> (Output, String) {
    let bin = tempfile::tempdir().unwrap();
    let calls = bin.path().join("calls");
    let script = format!(
        r#"#!/bin/sh
echo "$*" >> '{calls}'
case "$1 $2" in
  "cloudformation describe-stacks")
    case "$*" in
      *UserPoolId*) echo eu-west-1_pool ;;
      *CanarySecretArn*) echo arn:aws:secretsmanager:eu-west-1:123456789012:secret:canary-AbCdEf ;;
    esac ;;
  "secretsmanager get-secret-value") echo '{{"username":"canary@gota.invalid","password":"Pa55word!long-enough"}}' ;;
  "cognito-idp admin-create-user")
    case "$CREATE_USER" in
      ok) ;;
      exists) echo 'An error occurred (UsernameExistsException) when calling the AdminCreateUser operation: User account already exists' >&2; exit 254 ;;
      *) echo 'An error occurred (InvalidParameterException) when calling the AdminCreateUser operation: Username should be an email.' >&2; exit 254 ;;
    esac ;;
  "cognito-idp admin-set-user-password") ;;
  *) echo "unexpected: $*" >&2; exit 254 ;;
esac
"#,
        calls = calls.display()
    );
    let aws = bin.path().join("aws");
    std::fs::write(&aws, script).unwrap();
    Command::new("chmod").arg("+x").arg(&aws).status().unwrap();
    let output = Command::new("bash")
        .arg(repo_root().join("ops/canary-user.sh"))
        .arg("Gota-smoke")
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.path().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("CREATE_USER", create_user)
        .output()
        .unwrap();
    (output, std::fs::read_to_string(calls).unwrap_or_default())
}

#[test]
fn canary_user_creates_a_verified_email_user_and_sets_its_password() {
    let (output, calls) = canary_user("ok");
    assert!(
        output.status.success(),
        "{}",
        report("canary-user", &output)
    );
    let create = calls
        .lines()
        .find(|c| c.starts_with("cognito-idp admin-create-user"))
        .unwrap();
    assert!(
        create.contains("--username canary@gota.invalid"),
        "{create}"
    );
    assert!(
        create.contains("Name=email,Value=canary@gota.invalid"),
        "{create}"
    );
    assert!(
        create.contains("Name=email_verified,Value=true"),
        "{create}"
    );
    assert!(create.contains("--message-action SUPPRESS"), "{create}");
    assert!(calls.contains("admin-set-user-password --user-pool-id eu-west-1_pool --username canary@gota.invalid --password Pa55word!long-enough --permanent"), "{calls}");
}

#[test]
fn canary_user_resets_an_existing_user_and_stops_on_any_other_refusal() {
    let (output, calls) = canary_user("exists");
    assert!(
        output.status.success(),
        "{}",
        report("canary-user", &output)
    );
    assert!(calls.contains("admin-set-user-password"), "{calls}");

    let (output, calls) = canary_user("refused");
    assert!(
        !output.status.success(),
        "{}",
        report("canary-user", &output)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("Username should be an email"),
        "{}",
        report("canary-user", &output)
    );
    assert!(!calls.contains("admin-set-user-password"), "{calls}");
}
