//! The API over HTTP: bearer tokens, ETags, problem details turned into [`CliError`]s.
//!
//! Redirects are never followed: a redirected request would carry the bearer token to
//! wherever the answer points. The one redirect of the contract (`GET
//! /recipes/{id}/photo/{size}`, 307) is read by [`Api::photo_location`] and followed by
//! [`crate::photo::Transfer`], which has no token.

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;

use gota_domain::photo::PhotoSize;
use gota_domain::{Recipe, RecipeInput};

use crate::error::{CliError, Problem, chain, network};
use crate::import::ImportBody;
use crate::photo::{self, UploadGrant};

#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
pub struct Page {
    pub items: Vec<Recipe>,
    pub next_cursor: Option<String>,
}

/// A system of units to show amounts in (`?units=`, a shopping list's `units`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Units {
    /// g, kg, ml, l (spoons kept).
    Metric,
    /// oz, lb, cup, fl oz (spoons kept).
    Us,
}

impl Units {
    pub fn as_str(self) -> &'static str {
        match self {
            Units::Metric => gota_domain::UnitSystem::Metric.as_str(),
            Units::Us => gota_domain::UnitSystem::Us.as_str(),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    /// Every tag must match.
    pub tags: Vec<String>,
    pub ingredient: Option<String>,
    pub q: Option<String>,
    pub limit: Option<u32>,
}

impl Api {
    pub fn new(base: &str, token: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_with(method, path, &[])
    }

    fn request_with(&self, method: Method, path: &str, query: &[(&str, String)]) -> RequestBuilder {
        let mut url = format!("{}{path}", self.base);
        if !query.is_empty() {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                q.append_pair(k, v);
            }
            url.push('?');
            url.push_str(&q.finish());
        }
        let builder = self.http.request(method, url);
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// A failure to reach the server, with the question a person would ask next.
    fn unreachable(&self, e: &reqwest::Error) -> CliError {
        let mut text = chain(e);
        if e.is_connect() || e.is_timeout() {
            text.push_str(&format!(
                " — is gota-api running at {}? (`make run` starts one; `--api URL` or \
                 `gota config set endpoint URL` points gota elsewhere)",
                self.base
            ));
        }
        CliError::Network(text)
    }

    /// The API's base URL, without a trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn send(&self, builder: RequestBuilder) -> Result<Response, CliError> {
        let response = builder.send().await.map_err(|e| self.unreachable(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(Self::refusal(response).await)
    }

    /// A non-2xx answer as the problem it carries.
    async fn refusal(response: Response) -> CliError {
        let status = response.status().as_u16();
        let body = match response.text().await {
            Ok(body) => body,
            Err(e) => return network(&e),
        };
        let problem = serde_json::from_str::<Problem>(&body).unwrap_or_else(|_| Problem {
            title: StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("request failed")
                .to_owned(),
            ..Problem::default()
        });
        CliError::Api { status, problem }
    }

    async fn recipe_with_etag(response: Response) -> Result<(Recipe, String), CliError> {
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let recipe = response.json::<Recipe>().await.map_err(|e| network(&e))?;
        Ok((recipe, etag))
    }

    pub async fn dev_token(&self, username: &str) -> Result<DevToken, CliError> {
        let response = self
            .send(
                self.request(Method::POST, "/dev/token")
                    .json(&serde_json::json!({ "username": username })),
            )
            .await?;
        response.json().await.map_err(|e| network(&e))
    }

    pub async fn create(&self, input: &RecipeInput) -> Result<Recipe, CliError> {
        let response = self
            .send(self.request(Method::POST, "/recipes").json(input))
            .await?;
        Ok(Self::recipe_with_etag(response).await?.0)
    }

    pub async fn get(&self, id: &str, servings: Option<u16>) -> Result<(Recipe, String), CliError> {
        self.get_in(id, servings, None).await
    }

    /// A recipe, scaled to `servings` and shown in `units` when given.
    pub async fn get_in(
        &self,
        id: &str,
        servings: Option<u16>,
        units: Option<Units>,
    ) -> Result<(Recipe, String), CliError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(n) = servings {
            query.push(("servings", n.to_string()));
        }
        if let Some(units) = units {
            query.push(("units", units.as_str().to_owned()));
        }
        let builder = self.request_with(Method::GET, &format!("/recipes/{id}"), &query);
        Self::recipe_with_etag(self.send(builder).await?).await
    }

    pub async fn replace(
        &self,
        id: &str,
        input: &RecipeInput,
        if_match: Option<&str>,
    ) -> Result<Recipe, CliError> {
        let mut builder = self
            .request(Method::PUT, &format!("/recipes/{id}"))
            .json(input);
        if let Some(etag) = if_match {
            builder = builder.header(reqwest::header::IF_MATCH, etag);
        }
        Ok(Self::recipe_with_etag(self.send(builder).await?).await?.0)
    }

    /// `POST /recipes/import` under `idempotency_key`: the answer as sent (`recipe`, `import`).
    pub async fn import(
        &self,
        body: &ImportBody,
        idempotency_key: &str,
    ) -> Result<serde_json::Value, CliError> {
        let builder = self
            .request(Method::POST, "/recipes/import")
            .header("idempotency-key", idempotency_key);
        let builder = match body {
            ImportBody::Url(url) => builder.json(&serde_json::json!({ "url": url })),
            ImportBody::Document { media_type, bytes } => builder
                .header(reqwest::header::CONTENT_TYPE, *media_type)
                .body(bytes.clone()),
        };
        let response = self.send(builder).await?;
        response.json().await.map_err(|e| network(&e))
    }

    /// `GET /recipes/{id}` as schema.org JSON-LD, as the server wrote it.
    pub async fn export(&self, id: &str) -> Result<String, CliError> {
        let builder = self
            .request(Method::GET, &format!("/recipes/{id}"))
            .header(reqwest::header::ACCEPT, "application/ld+json");
        let response = self.send(builder).await?;
        response.text().await.map_err(|e| network(&e))
    }

    /// Asks the server whether it accepts this client's token (the cheapest authenticated
    /// request there is: one recipe, or none).
    pub async fn check_token(&self) -> Result<(), CliError> {
        self.send(self.request_with(Method::GET, "/recipes", &[("limit", "1".to_owned())]))
            .await?;
        Ok(())
    }

    /// `POST /recipes/{id}/photo`: the upload to make for a photo of `content_type`.
    pub async fn photo_upload(
        &self,
        id: &str,
        content_type: &str,
        if_match: Option<&str>,
    ) -> Result<UploadGrant, CliError> {
        let mut builder = self
            .request(Method::POST, &format!("/recipes/{id}/photo"))
            .json(&serde_json::json!({ "content_type": content_type }));
        if let Some(etag) = if_match {
            builder = builder.header(reqwest::header::IF_MATCH, etag);
        }
        let response = self.send(builder).await?;
        response.json().await.map_err(|e| network(&e))
    }

    /// `DELETE /recipes/{id}/photo`.
    pub async fn photo_delete(&self, id: &str, if_match: Option<&str>) -> Result<(), CliError> {
        let mut builder = self.request(Method::DELETE, &format!("/recipes/{id}/photo"));
        if let Some(etag) = if_match {
            builder = builder.header(reqwest::header::IF_MATCH, etag);
        }
        self.send(builder).await?;
        Ok(())
    }

    /// `GET /recipes/{id}/photo/{size}`: where the image is (the 307's `Location`, resolved
    /// against the base URL when it is a path), to fetch without the token.
    pub async fn photo_location(&self, id: &str, size: PhotoSize) -> Result<String, CliError> {
        let builder = self.request(
            Method::GET,
            &format!("/recipes/{id}/photo/{}", size.as_str()),
        );
        let response = builder.send().await.map_err(|e| self.unreachable(&e))?;
        if !response.status().is_redirection() {
            return Err(if response.status().is_success() {
                CliError::Network(format!(
                    "the server answered {} instead of a redirect to the image",
                    response.status()
                ))
            } else {
                Self::refusal(response).await
            });
        }
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                CliError::Network(format!(
                    "the server answered {} without a Location",
                    response.status()
                ))
            })?;
        photo::resolve(&self.base, location)
    }

    pub async fn delete(&self, id: &str) -> Result<(), CliError> {
        self.send(self.request(Method::DELETE, &format!("/recipes/{id}")))
            .await?;
        Ok(())
    }

    pub async fn list_page(
        &self,
        filter: &ListFilter,
        cursor: Option<&str>,
    ) -> Result<Page, CliError> {
        let query = filter.query(cursor);
        let response = self
            .send(self.request_with(Method::GET, "/recipes", &query))
            .await?;
        response.json().await.map_err(|e| network(&e))
    }

    /// The page at `cursor`, and with `all` every page after it, as one page.
    pub async fn all_pages(
        &self,
        filter: &ListFilter,
        cursor: Option<&str>,
        all: bool,
    ) -> Result<Page, CliError> {
        let mut page = self.list_page(filter, cursor).await?;
        while all && let Some(next) = page.next_cursor.take() {
            let more = self.list_page(filter, Some(&next)).await?;
            page.items.extend(more.items);
            page.next_cursor = more.next_cursor;
        }
        Ok(page)
    }

    /// `POST /shopping-list`: the merged list, as the server wrote it.
    pub async fn shopping_list(
        &self,
        request: &serde_json::Value,
    ) -> Result<serde_json::Value, CliError> {
        let response = self
            .send(self.request(Method::POST, "/shopping-list").json(request))
            .await?;
        response.json().await.map_err(|e| network(&e))
    }
}

impl ListFilter {
    /// The query of `GET /recipes`: one `tag` parameter per tag.
    pub fn query(&self, cursor: Option<&str>) -> Vec<(&'static str, String)> {
        let filter = self;
        let mut query: Vec<(&str, String)> = Vec::new();
        for v in &filter.tags {
            query.push(("tag", v.clone()));
        }
        if let Some(v) = &filter.ingredient {
            query.push(("ingredient", v.clone()));
        }
        if let Some(v) = &filter.q {
            query.push(("q", v.clone()));
        }
        if let Some(v) = filter.limit {
            query.push(("limit", v.to_string()));
        }
        if let Some(c) = cursor {
            query.push(("cursor", c.to_owned()));
        }
        query
    }
}

#[derive(Debug, Deserialize)]
pub struct DevToken {
    pub token: String,
    pub expires_in: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tag_is_its_own_query_parameter() {
        let filter = ListFilter {
            tags: vec!["quick".into(), "vegan".into()],
            q: Some("rice".into()),
            ..ListFilter::default()
        };
        assert_eq!(
            filter.query(Some("c1")),
            [
                ("tag", "quick".to_owned()),
                ("tag", "vegan".to_owned()),
                ("q", "rice".to_owned()),
                ("cursor", "c1".to_owned()),
            ]
        );
    }
}
