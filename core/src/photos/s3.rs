//! [`PhotoObjects`] in an S3 bucket (on AWS; moto's S3 in tests).
//!
//! The client is built from the same `SdkConfig` as DynamoDB's (one credentials chain at
//! start). Uploads are S3 POST forms signed here ([`super::post_policy`]); image URLs are the
//! SDK's presigned GetObject.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use aws_sdk_s3::config::endpoint::{Params, ResolveEndpoint as _};
use aws_sdk_s3::config::{Credentials, ProvideCredentials as _, SharedCredentialsProvider};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use time::OffsetDateTime;

use super::post_policy::{self, SigningCredentials, UploadRules};
use super::{Fetched, ObjectsError, PhotoObjects, Upload, UploadMethod};

/// The IAM actions this adapter's calls need (`gota-api iam-actions`): GetObject, PutObject,
/// and DeleteObjects, which IAM authorizes as `s3:DeleteObject` per key ("DeleteObjects",
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>). The presigned
/// GET and the POST upload act with these same permissions of the signer.
pub const IAM_ACTIONS: &[&str] = &["s3:DeleteObject", "s3:GetObject", "s3:PutObject"];

/// The most keys one DeleteObjects request may name ("DeleteObjects": up to 1,000 keys).
const DELETE_BATCH: usize = 1000;

/// The longest a SigV4 presigned URL may be valid ("Sharing objects with presigned URLs":
/// up to 7 days with SigV4, <https://docs.aws.amazon.com/AmazonS3/latest/userguide/ShareObjectPreSignedURL.html>).
const PRESIGN_MAX: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Temporary credentials are reused for a signature only while they outlive it by this much.
const CREDENTIALS_MARGIN: time::Duration = time::Duration::minutes(1);

/// The photo bucket through the AWS SDK.
#[derive(Debug, Clone)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
    bucket: String,
    region: Option<String>,
    /// The endpoint override the SDK uses for S3 (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`,
    /// or one set in code); `None` on AWS.
    endpoint: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
    /// The last credentials fetched for a POST policy: the SDK config's provider does not cache
    /// (the clients' identity cache does), and on ECS or EC2 each fetch would be a request.
    cached: Arc<tokio::sync::Mutex<Option<Credentials>>>,
}

impl S3Objects {
    /// A client for `bucket` from the shared SDK configuration. Path-style addressing only when
    /// an endpoint override is set (an emulator such as moto serves no per-bucket host names);
    /// on AWS the SDK's default, virtual-hosted style, as AWS recommends ("Virtual hosting of
    /// buckets", <https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html>:
    /// path-style requests are being deprecated).
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> S3Objects {
        let endpoint = endpoint_override(sdk);
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(endpoint.is_some())
            .build();
        S3Objects {
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: bucket.into(),
            region: sdk.region().map(ToString::to_string),
            endpoint,
            credentials: sdk.credentials_provider(),
            cached: Arc::default(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn region(&self) -> anyhow::Result<&str> {
        self.region
            .as_deref()
            .context("no AWS region is configured (AWS_REGION)")
    }

    /// The URL a POST upload goes to: the SDK's own endpoint for the bucket, so
    /// `https://<bucket>.s3.<region>.amazonaws.com/` on AWS and `<override>/<bucket>/` with an
    /// endpoint override ("POST Object": the request goes to the bucket's endpoint, the key is
    /// a form field).
    pub async fn upload_url(&self) -> anyhow::Result<String> {
        let mut params = Params::builder()
            .bucket(&self.bucket)
            .region(self.region()?)
            .use_fips(false)
            .use_dual_stack(false)
            .force_path_style(self.endpoint.is_some());
        if let Some(endpoint) = &self.endpoint {
            params = params.endpoint(endpoint);
        }
        let params = params.build().context("S3 endpoint parameters")?;
        let endpoint = aws_sdk_s3::config::endpoint::DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .map_err(|e| anyhow::anyhow!("resolving the S3 endpoint: {e}"))?;
        let url = endpoint.url();
        Ok(if url.ends_with('/') {
            url.to_owned()
        } else {
            format!("{url}/")
        })
    }

    /// Credentials valid until at least `until` (plus a margin).
    async fn credentials(&self, until: OffsetDateTime) -> anyhow::Result<Credentials> {
        let provider = self
            .credentials
            .as_ref()
            .context("no AWS credentials provider is configured")?;
        let mut cached = self.cached.lock().await;
        let lasts = |credentials: &Credentials| match credentials.expiry() {
            None => true,
            Some(expiry) => OffsetDateTime::from(expiry) > until + CREDENTIALS_MARGIN,
        };
        if let Some(credentials) = cached.as_ref().filter(|c| lasts(c)) {
            return Ok(credentials.clone());
        }
        let fresh = provider
            .provide_credentials()
            .await
            .context("fetching AWS credentials")?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }
}

/// The endpoint override the S3 client will use, decided as `aws_sdk_s3::config::Builder::from`
/// decides it: an endpoint set in code wins, then `AWS_ENDPOINT_URL_S3` (or the profile's
/// `endpoint_url` in its `s3` section), then `AWS_ENDPOINT_URL` ("Service-specific endpoints",
/// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html>).
fn endpoint_override(sdk: &aws_config::SdkConfig) -> Option<String> {
    if sdk.get_origin("endpoint_url").is_client_config() {
        return sdk.endpoint_url().map(ToOwned::to_owned);
    }
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("S3")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    sdk.service_config()
        .and_then(|config| config.load_config(key))
        .or_else(|| sdk.endpoint_url().map(ToOwned::to_owned))
}

fn failed(error: impl Into<anyhow::Error>) -> ObjectsError {
    ObjectsError(error.into())
}

/// The SDK error with its whole source chain (the SDK's `Display` is only "service error").
fn sdk_failed<E, R>(operation: &str, error: aws_sdk_s3::error::SdkError<E, R>) -> ObjectsError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let detail = aws_sdk_s3::error::DisplayErrorContext(&error).to_string();
    ObjectsError(anyhow::Error::new(error).context(format!("S3 {operation}: {detail}")))
}

#[async_trait]
impl PhotoObjects for S3Objects {
    #[tracing::instrument(skip(self), err)]
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        max_bytes: u64,
        expires_at: OffsetDateTime,
    ) -> Result<Upload, ObjectsError> {
        let credentials = self.credentials(expires_at).await.map_err(failed)?;
        // What temporary credentials sign dies with them ("Download and upload objects with
        // presigned URLs", who can create one: with IAM role credentials "when the role session
        // expires, the presigned URL expires too, even if you specify a longer time",
        // <https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html>): the
        // policy and the answer say when S3 will really refuse the upload.
        let expires_at = credentials
            .expiry()
            .map_or(expires_at, |expiry| expires_at.min(expiry.into()));
        let rules = UploadRules {
            bucket: &self.bucket,
            key,
            content_type,
            max_bytes,
            expires_at,
        };
        let signing = SigningCredentials {
            access_key_id: credentials.access_key_id(),
            secret_access_key: credentials.secret_access_key(),
            session_token: credentials.session_token(),
        };
        let fields = post_policy::form_fields(
            &rules,
            &signing,
            self.region().map_err(failed)?,
            OffsetDateTime::now_utc(),
        );
        Ok(Upload {
            url: self.upload_url().await.map_err(failed)?,
            method: UploadMethod::Post,
            fields,
            headers: Vec::new(),
            expires_at,
            max_bytes,
        })
    }

    #[tracing::instrument(skip(self), err)]
    async fn presign_get(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
    ) -> Result<String, ObjectsError> {
        // Signed with credentials that outlive the URL when the provider can give them, and
        // never said to last longer than they do (as an upload, above).
        let credentials = self.credentials(expires_at).await.map_err(failed)?;
        let expires_at = credentials
            .expiry()
            .map_or(expires_at, |expiry| expires_at.min(expiry.into()));
        let remaining = (expires_at - OffsetDateTime::now_utc()).whole_seconds();
        let expires_in = Duration::from_secs(u64::try_from(remaining).unwrap_or(0).max(1));
        let config = PresigningConfig::expires_in(expires_in.min(PRESIGN_MAX))
            .map_err(|e| failed(anyhow::Error::new(e).context("S3 presigning")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .customize()
            .config_override(aws_sdk_s3::config::Builder::new().credentials_provider(credentials))
            .presigned(config)
            .await
            .map_err(|e| sdk_failed("GetObject presigning", e))?;
        Ok(request.uri().to_owned())
    }

    #[tracing::instrument(skip(self), err)]
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Fetched>, ObjectsError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            // NoSuchKey only for a caller with s3:ListBucket on the bucket; without it S3
            // answers 403 ("GetObject", Permissions), an error like any other.
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                ) =>
            {
                return Ok(None);
            }
            Err(error) => return Err(sdk_failed("GetObject", error)),
        };
        let declared = output
            .content_length()
            .and_then(|length| u64::try_from(length).ok());
        if let Some(size) = declared.filter(|size| *size > max_bytes) {
            // Dropping the body closes the connection unread.
            return Ok(Some(Fetched::TooLarge { size }));
        }
        let mut body = output.body;
        let mut bytes =
            Vec::with_capacity(usize::try_from(declared.unwrap_or(0).min(max_bytes)).unwrap_or(0));
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| failed(anyhow::Error::new(e).context("S3 GetObject: reading the body")))?
        {
            let read = bytes.len() as u64 + chunk.len() as u64;
            if read > max_bytes {
                return Ok(Some(Fetched::TooLarge {
                    size: declared.unwrap_or(read).max(read),
                }));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(Fetched::Bytes(bytes)))
    }

    #[tracing::instrument(skip(self, bytes), fields(len = bytes.len()), err)]
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), ObjectsError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| sdk_failed("PutObject", e))?;
        Ok(())
    }

    #[tracing::instrument(skip(self), err)]
    async fn delete(&self, keys: &[String]) -> Result<(), ObjectsError> {
        for batch in keys.chunks(DELETE_BATCH) {
            let objects = batch
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| failed(anyhow::Error::new(e).context("S3 DeleteObjects")))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| failed(anyhow::Error::new(e).context("S3 DeleteObjects")))?;
            let output = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| sdk_failed("DeleteObjects", e))?;
            // Quiet mode answers only the keys it could not delete.
            if let Some(first) = output.errors().first() {
                return Err(failed(anyhow::anyhow!(
                    "S3 DeleteObjects: {} of {} keys not deleted; first {:?}: {} {}",
                    output.errors().len(),
                    batch.len(),
                    first.key().unwrap_or_default(),
                    first.code().unwrap_or_default(),
                    first.message().unwrap_or_default(),
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use aws_config::{BehaviorVersion, Region, SdkConfig};

    use super::*;

    fn sdk(endpoint: Option<&str>) -> SdkConfig {
        let mut builder = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                Some("token".into()),
                None,
                "test",
            )));
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        builder.build()
    }

    #[tokio::test]
    async fn on_aws_the_upload_goes_to_the_buckets_virtual_hosted_endpoint() {
        let objects = S3Objects::new(&sdk(None), "gota-photos-abc");
        assert_eq!(
            objects.upload_url().await.unwrap(),
            "https://gota-photos-abc.s3.eu-west-1.amazonaws.com/"
        );
        let url = objects
            .presign_get(
                "photos/a/b/c/thumb.jpg",
                OffsetDateTime::now_utc() + time::Duration::minutes(10),
            )
            .await
            .unwrap();
        assert!(
            url.starts_with(
                "https://gota-photos-abc.s3.eu-west-1.amazonaws.com/photos/a/b/c/thumb.jpg?"
            ),
            "{url}"
        );
        assert!(
            url.contains("X-Amz-Expires=600") || url.contains("X-Amz-Expires=599"),
            "{url}"
        );
    }

    #[tokio::test]
    async fn with_an_endpoint_override_addressing_is_path_style() {
        // A host name, not an IP address: the SDK addresses a bucket on an IP path-style
        // anyway, so only a name shows the choice.
        let objects = S3Objects::new(&sdk(Some("http://localhost:4566")), "photos");
        assert_eq!(
            objects.upload_url().await.unwrap(),
            "http://localhost:4566/photos/"
        );
        let url = objects
            .presign_get(
                "photos/k.jpg",
                OffsetDateTime::now_utc() + time::Duration::minutes(10),
            )
            .await
            .unwrap();
        assert!(
            url.starts_with("http://localhost:4566/photos/photos/k.jpg?"),
            "{url}"
        );
    }

    #[tokio::test]
    async fn an_upload_is_a_post_form_signed_with_the_sdks_credentials() {
        let objects = S3Objects::new(&sdk(None), "gota-photos-abc");
        let expires_at = OffsetDateTime::now_utc() + crate::photos::UPLOAD_VALIDITY;
        let upload = objects
            .presign_upload("uploads/a/b/c", "image/png", 1234, expires_at)
            .await
            .unwrap();
        assert_eq!(upload.method, UploadMethod::Post);
        assert_eq!(upload.max_bytes, 1234);
        assert_eq!(upload.expires_at, expires_at);
        assert!(upload.headers.is_empty());
        let field = |name: &str| {
            upload
                .fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(field("key"), Some("uploads/a/b/c"));
        assert_eq!(field("Content-Type"), Some("image/png"));
        assert_eq!(field("x-amz-security-token"), Some("token"));
        assert!(
            field("x-amz-credential")
                .unwrap()
                .starts_with("AKIDEXAMPLE/")
                && field("x-amz-credential")
                    .unwrap()
                    .ends_with("/eu-west-1/s3/aws4_request")
        );
    }

    #[tokio::test]
    async fn an_upload_or_image_url_never_outlives_the_temporary_credentials_that_sign_it() {
        let expiry = OffsetDateTime::now_utc() + time::Duration::minutes(5);
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "ASIAEXAMPLE",
                "secret",
                Some("token".into()),
                Some(expiry.into()),
                "test",
            )))
            .build();
        let objects = S3Objects::new(&sdk, "gota-photos-abc");
        let upload = objects
            .presign_upload(
                "uploads/a/b/c",
                "image/png",
                1234,
                OffsetDateTime::now_utc() + crate::photos::UPLOAD_VALIDITY,
            )
            .await
            .unwrap();
        let url = objects
            .presign_get(
                "photos/a/b/c/thumb.jpg",
                OffsetDateTime::now_utc() + crate::photos::IMAGE_URL_VALIDITY,
            )
            .await
            .unwrap();
        assert!(
            url.contains("X-Amz-Expires=300") || url.contains("X-Amz-Expires=299"),
            "{url}"
        );
        let expiry = OffsetDateTime::from(std::time::SystemTime::from(expiry));
        assert_eq!(upload.expires_at, expiry);
        let policy = upload
            .fields
            .iter()
            .find(|(name, _)| name == "policy")
            .map(|(_, value)| value)
            .unwrap();
        let policy: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::STANDARD, policy).unwrap(),
        )
        .unwrap();
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        assert_eq!(policy["expiration"], expiry.format(&format).unwrap());
    }

    #[tokio::test]
    async fn the_upload_url_is_the_buckets_own_endpoint_in_every_partition_and_region() {
        for (region, bucket, url) in [
            (
                "us-east-1",
                "gota-photos-abc",
                "https://gota-photos-abc.s3.us-east-1.amazonaws.com/",
            ),
            // An opt-in region has a regional endpoint only.
            (
                "ap-east-1",
                "gota-photos-abc",
                "https://gota-photos-abc.s3.ap-east-1.amazonaws.com/",
            ),
            (
                "cn-north-1",
                "gota-photos-abc",
                "https://gota-photos-abc.s3.cn-north-1.amazonaws.com.cn/",
            ),
            // A dotted name would not match S3's wildcard certificate as a host: path-style.
            (
                "eu-west-1",
                "my.photos-1",
                "https://s3.eu-west-1.amazonaws.com/my.photos-1/",
            ),
        ] {
            let mut sdk = sdk(None).into_builder();
            sdk.set_region(Some(Region::new(region)));
            let objects = S3Objects::new(&sdk.build(), bucket);
            assert_eq!(
                objects.upload_url().await.unwrap(),
                url,
                "{region} {bucket}"
            );
        }
    }

    #[tokio::test]
    async fn an_image_url_never_outlives_what_sigv4_allows() {
        let objects = S3Objects::new(&sdk(None), "gota-photos-abc");
        let url = objects
            .presign_get("k", OffsetDateTime::now_utc() + time::Duration::days(30))
            .await
            .unwrap();
        assert!(url.contains("X-Amz-Expires=604800"), "{url}");
    }
}
