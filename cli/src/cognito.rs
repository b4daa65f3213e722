//! Cognito USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH through the AWS SDK. Both calls are
//! unsigned, so no AWS credentials are loaded or needed.

use aws_sdk_cognitoidentityprovider as cognito;
use cognito::types::AuthFlowType;

use crate::error::CliError;

#[derive(Debug)]
pub struct Tokens {
    /// The bearer token for the API. It carries the `aws.cognito.signin.user.admin` scope that
    /// the deployed API's Cognito authorizer requires; that authorizer refuses ID tokens.
    pub access: String,
    pub refresh: Option<String>,
    pub expires_in: i64,
}

async fn client(region: &str, endpoint: Option<&str>) -> cognito::Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .no_credentials();
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    cognito::Client::new(&loader.load().await)
}

fn auth_error(
    e: &cognito::error::SdkError<cognito::operation::initiate_auth::InitiateAuthError>,
) -> CliError {
    use cognito::error::SdkError;
    match e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            CliError::Auth(format!(
                "Cognito refused the sign-in: {}",
                err.meta()
                    .message()
                    .or(err.meta().code())
                    .unwrap_or("unknown error")
            ))
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            CliError::Network(format!("cannot reach Cognito: {}", aws_error_chain(e)))
        }
        other => CliError::Auth(format!("sign-in failed: {}", aws_error_chain(other))),
    }
}

fn aws_error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub async fn initiate(
    region: &str,
    endpoint: Option<&str>,
    client_id: &str,
    flow: AuthFlowType,
    params: &[(&str, &str)],
) -> Result<Tokens, CliError> {
    let mut request = client(region, endpoint)
        .await
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(flow);
    for (k, v) in params {
        request = request.auth_parameters(*k, *v);
    }
    let output = request.send().await.map_err(|e| auth_error(&e))?;
    let result = output.authentication_result.ok_or_else(|| {
        CliError::Auth(format!(
            "Cognito asked for a challenge ({}) that gota does not support",
            output
                .challenge_name
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default()
        ))
    })?;
    let access = result
        .access_token
        .ok_or_else(|| CliError::Auth("Cognito returned no access token".into()))?;
    Ok(Tokens {
        access,
        refresh: result.refresh_token,
        expires_in: i64::from(result.expires_in),
    })
}
