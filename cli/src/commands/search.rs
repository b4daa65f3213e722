//! `gota search`: the API's word search (`GET /recipes?q=`) with the list's filters, printed as
//! `recipes list` prints a page. Also how a refused list query is put in the flags' words.

use crate::client::{Api, ListFilter};
use crate::error::CliError;

use super::{Context, page_hint, show_page};

/// Find your recipes by words of their title, description, ingredients and tags.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Find your recipes by words of their title, description, ingredient names and \
                  tags, newest first. Every word must match, in any case and with or without \
                  accents (`creme brulee` finds \"Crème brûlée\"); the last word may be the start \
                  of one (`creme bru`). At most 8 words."
)]
pub struct SearchArgs {
    /// The words to find (the last may be a prefix).
    #[arg(required = true, value_name = "WORDS")]
    words: Vec<String>,
    /// Only recipes with this tag; repeat for several (all must match).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Only recipes with an ingredient of this name (whole name, any case).
    #[arg(long, value_name = "NAME")]
    ingredient: Option<String>,
    /// Page size (1–100; the server's default is 20).
    #[arg(long)]
    limit: Option<u32>,
    /// Start at this page: the `next_cursor` of the previous one (same words and filters).
    #[arg(long, conflicts_with = "all")]
    cursor: Option<String>,
    /// Follow cursors to the last page.
    #[arg(long)]
    all: bool,
}

pub(super) async fn search(ctx: &Context, api: &Api, args: SearchArgs) -> anyhow::Result<()> {
    let words = args.words.join(" ");
    let filter = ListFilter {
        tags: args.tags,
        ingredient: args.ingredient,
        q: Some(words.clone()),
        limit: args.limit,
    };
    let page = api
        .all_pages(&filter, args.cursor.as_deref(), args.all)
        .await
        .map_err(|e| refused_query(e, "gota search"))?;
    let next = |cursor: &str| {
        let mut command = vec!["gota search".to_owned()];
        command.extend(args.words.iter().map(|w| super::shell_word(w)));
        command.push(page_hint(
            &ListFilter {
                q: None,
                ..filter.clone()
            },
            cursor,
        ));
        command.join(" ")
    };
    let nothing = if args.cursor.is_some() {
        "No more recipes match.".to_owned()
    } else {
        format!(
            "No recipes match {}{}.",
            quoted(&words),
            filters_said(&filter)
        )
    };
    show_page(ctx, &page, next, &nothing)
}

fn quoted(words: &str) -> String {
    format!("“{words}”")
}

/// ` with tags a, b and ingredient x`, or nothing.
fn filters_said(filter: &ListFilter) -> String {
    let mut parts = Vec::new();
    match filter.tags.as_slice() {
        [] => {}
        [tag] => parts.push(format!("tag {tag}")),
        tags => parts.push(format!("tags {}", tags.join(", "))),
    }
    if let Some(name) = &filter.ingredient {
        parts.push(format!("ingredient {name}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" with {}", parts.join(" and "))
    }
}

/// A 422 on a list query, said with the flags the person typed rather than the API's
/// `/query/...` pointers; any other failure is returned as it is. Stays a usage error (exit 2).
pub(super) fn refused_query(e: CliError, command: &str) -> CliError {
    let CliError::Api {
        status: 422,
        problem,
    } = &e
    else {
        return e;
    };
    if problem.errors.is_empty() {
        return e;
    }
    let said: Vec<String> = problem
        .errors
        .iter()
        .map(|field| {
            let what = match field.pointer.as_str() {
                "/query/q" if command == "gota search" => "the search".to_owned(),
                pointer => match pointer.strip_prefix("/query/") {
                    Some(name) => format!("--{name}"),
                    None => pointer.to_owned(),
                },
            };
            format!("{what} {}", field.message)
        })
        .collect();
    CliError::Usage(format!("{command}: {}", said.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{FieldProblem, Problem};

    fn refused(pointer: &str, message: &str) -> CliError {
        CliError::Api {
            status: 422,
            problem: Problem {
                title: "Unprocessable Content".into(),
                detail: None,
                errors: vec![FieldProblem {
                    pointer: pointer.into(),
                    message: message.into(),
                }],
            },
        }
    }

    #[test]
    fn a_refused_query_names_the_flag_not_the_pointer_and_stays_a_usage_error() {
        let e = refused_query(
            refused("/query/q", "must be at most 8 words (got 9)"),
            "gota search",
        );
        assert_eq!(
            e.to_string(),
            "gota search: the search must be at most 8 words (got 9)"
        );
        assert_eq!(e.exit_code(), crate::error::exit::USAGE);
        let e = refused_query(
            refused("/query/tag", "is not a valid tag"),
            "gota recipes list",
        );
        assert_eq!(e.to_string(), "gota recipes list: --tag is not a valid tag");
    }

    #[test]
    fn other_failures_are_left_as_they_are() {
        let e = refused_query(CliError::Network("down".into()), "gota search");
        assert!(matches!(e, CliError::Network(_)));
    }

    #[test]
    fn an_empty_result_says_which_filters_found_nothing() {
        let filter = ListFilter {
            tags: vec!["quick".into(), "vegan".into()],
            ingredient: Some("rice".into()),
            ..ListFilter::default()
        };
        assert_eq!(
            filters_said(&filter),
            " with tags quick, vegan and ingredient rice"
        );
        assert_eq!(filters_said(&ListFilter::default()), "");
    }
}
