//! The embedded store's inverted index: table `search_v1`, one key per posting,
//! `owner \0 term \0 recipe id` → (). Within an owner and a term the keys sort by recipe id,
//! which for UUIDv7 is creation order, so walking a term backwards is walking its recipes
//! newest first, the list's order; terms that start with a prefix are neighbours, so the
//! type-ahead word is a range too. Postings change in the same write transaction as their
//! recipe (the writer's `Op`s carry them), so a committed recipe is always findable.
//!
//! A query intersects its terms' postings by leapfrogging (each walk seeks to the newest id
//! the others may still share), so it reads postings around its matches, not the owner's
//! recipes; every candidate is then read and checked against the whole filter. See
//! `doc/data-model.md` and `doc/adr/0030-search-index.md`.

use std::collections::BTreeSet;
use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata, Table, TableDefinition};

use gota_domain::search::{OVERFLOW_TERM, terms};
use gota_domain::{Owner, RecipeContent};

use super::SEP;
use crate::store::IndexQuery;

/// `owner \0 term \0 id` → (): the postings.
pub(super) const SEARCH: TableDefinition<'static, &str, ()> = TableDefinition::new("search_v1");

/// The postings of a recipe with `content`: one per term, however many ([`terms`]; only
/// DynamoDB's transaction size needs the overflow bucket, and here it would make every query
/// read and check each long recipe).
pub(super) fn postings(owner: &Owner, id: &str, content: &RecipeContent) -> Vec<String> {
    terms(content)
        .iter()
        .map(|term| posting_key(owner, term, id))
        .collect()
}

/// The postings to remove and to add when a recipe's content goes from `old` to `new`.
pub(super) fn diff(
    owner: &Owner,
    id: &str,
    old: &RecipeContent,
    new: &RecipeContent,
) -> (Vec<String>, Vec<String>) {
    let old = terms(old);
    let new = terms(new);
    let key = |term: &String| posting_key(owner, term, id);
    (
        old.difference(&new).map(key).collect(),
        new.difference(&old).map(key).collect(),
    )
}

fn posting_key(owner: &Owner, term: &str, id: &str) -> String {
    format!("{}{SEP}{term}{SEP}{id}", owner.as_str())
}

/// Files every recipe under its terms, if the index is empty while recipes are not: a store
/// written by a release before the index existed. Runs once, at open, in the transaction that
/// creates the table (a failure leaves both as they were).
pub(super) fn backfill(
    recipes: &Table<'_, &'static str, &'static [u8]>,
    search: &mut Table<'_, &'static str, ()>,
) -> anyhow::Result<u64> {
    if !search.is_empty()? || recipes.is_empty()? {
        return Ok(0);
    }
    let mut filed = 0;
    for entry in recipes.iter()? {
        let (id, bytes) = entry?;
        let recipe = super::decode_recipe(bytes.value())?;
        for key in postings(&recipe.owner, id.value(), &recipe.content) {
            search.insert(key.as_str(), ())?;
        }
        filed += 1;
    }
    Ok(filed)
}

/// A type-ahead prefix covering more words than this is not walked word by word (one seek per
/// word at every step) but read once, all its postings, into a sorted list of ids.
const PREFIX_WALK_TERMS_MAX: usize = 16;

/// One term's recipe ids (or a prefix's), walked newest first by seeking.
enum Walk<'a, T: ReadableTable<&'static str, ()>> {
    /// `owner \0 term \0` for each term this walk covers (one, or the few that start with the
    /// type-ahead prefix), plus the owner's overflow term, sought in the table.
    Heads { table: &'a T, heads: Vec<String> },
    /// Every id filed under a term that starts with a prefix covering many words (and the
    /// overflow ids), oldest first.
    Known(Vec<String>),
}

impl<T: ReadableTable<&'static str, ()>> Walk<'_, T> {
    /// The newest id at or before `upper` (`Excluded` for strictly before) under any head.
    fn seek(&self, upper: Bound<&str>) -> anyhow::Result<Option<String>> {
        let (table, heads) = match self {
            Walk::Heads { table, heads } => (table, heads),
            Walk::Known(ids) => {
                let end = match upper {
                    Bound::Included(id) => ids.partition_point(|x| x.as_str() <= id),
                    Bound::Excluded(id) => ids.partition_point(|x| x.as_str() < id),
                    Bound::Unbounded => ids.len(),
                };
                return Ok(end.checked_sub(1).and_then(|i| ids.get(i)).cloned());
            }
        };
        let mut best: Option<String> = None;
        for head in heads {
            let end = match upper {
                Bound::Included(id) => Bound::Included(format!("{head}{id}")),
                Bound::Excluded(id) => Bound::Excluded(format!("{head}{id}")),
                // SEP + 1 after the term: past every `owner \0 term \0 …`.
                Bound::Unbounded => {
                    Bound::Excluded(format!("{}\u{1}", head.strip_suffix(SEP).unwrap_or(head)))
                }
            };
            let range = (Bound::Included(head.clone()), end);
            let found = table
                .range::<&str>((
                    range.0.as_ref().map(String::as_str),
                    range.1.as_ref().map(String::as_str),
                ))?
                .next_back()
                .transpose()?;
            if let Some((key, _)) = found {
                let id = key.value().get(head.len()..).unwrap_or_default().to_owned();
                if best.as_ref().is_none_or(|b| *b < id) {
                    best = Some(id);
                }
            }
        }
        Ok(best)
    }
}

/// Ids filed under every term of `query` (each term's walk includes the overflow recipes),
/// newest first, strictly before `after`; `visit` is called with each until it returns false.
pub(super) fn intersect<T: ReadableTable<&'static str, ()>>(
    table: &T,
    owner: &Owner,
    query: &IndexQuery,
    after: Option<&str>,
    mut visit: impl FnMut(&str) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let head = |term: &str| format!("{}{SEP}{term}{SEP}", owner.as_str());
    let overflow = head(OVERFLOW_TERM);
    let mut walks: Vec<Walk<'_, T>> = query
        .exact
        .iter()
        .map(|term| Walk::Heads {
            table,
            heads: vec![head(term), overflow.clone()],
        })
        .collect();
    if let Some(prefix) = &query.prefix {
        let terms = prefix_terms(table, owner, prefix, PREFIX_WALK_TERMS_MAX + 1)?;
        if terms.len() <= PREFIX_WALK_TERMS_MAX {
            let mut heads = terms.iter().map(|term| head(term)).collect::<Vec<_>>();
            heads.push(overflow.clone());
            walks.push(Walk::Heads { table, heads });
        } else {
            // Read once, in key order, rather than a seek per word per step: a short prefix
            // ("s", "1") covers hundreds of words, and leaving it to the check of each
            // candidate reads and decodes every recipe of the other walks when its matches
            // are rare ("pizza 1": thousands of pizzas, a few with a word starting with 1).
            walks.push(Walk::Known(prefix_ids(table, owner, prefix, after)?));
        }
    }
    // Rarest first would be best; the one walk order that is cheap to know is "exact terms
    // before the prefix", which the construction above already gives.
    let Some((first, others)) = walks.split_first() else {
        return Ok(());
    };
    let mut candidate = first.seek(after.map_or(Bound::Unbounded, Bound::Excluded))?;
    'leapfrog: while let Some(x) = candidate {
        for walk in others {
            match walk.seek(Bound::Included(&x))? {
                None => return Ok(()),
                Some(y) if y != x => {
                    // `y` is older than `x`: no walk can share anything newer than `y`.
                    candidate = first.seek(Bound::Included(&y))?;
                    continue 'leapfrog;
                }
                Some(_) => {}
            }
        }
        if !visit(&x)? {
            return Ok(());
        }
        candidate = first.seek(Bound::Excluded(&x))?;
    }
    Ok(())
}

/// Every id of `owner` filed under a term that starts with `prefix` or under the overflow
/// term, strictly before `after`, oldest first, without repeats: one pass over the prefix's
/// postings (terms that start with it are neighbours in the table).
fn prefix_ids<T: ReadableTable<&'static str, ()>>(
    table: &T,
    owner: &Owner,
    prefix: &str,
    after: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let base = format!("{}{SEP}", owner.as_str());
    let mut ids = BTreeSet::new();
    let ranges = [
        // Every term's characters are below U+10FFFF, so this ends past every term with the
        // prefix.
        (
            format!("{base}{prefix}"),
            format!("{base}{prefix}\u{10FFFF}"),
        ),
        (
            format!("{base}{OVERFLOW_TERM}{SEP}"),
            format!("{base}{OVERFLOW_TERM}\u{1}"),
        ),
    ];
    for (start, end) in &ranges {
        for entry in table.range::<&str>(start.as_str()..end.as_str())? {
            let (key, _) = entry?;
            let Some((_, id)) = key.value().rsplit_once(SEP) else {
                continue;
            };
            if after.is_none_or(|after| id < after) {
                ids.insert(id.to_owned());
            }
        }
    }
    Ok(ids.into_iter().collect())
}

/// The distinct terms of `owner` that start with `prefix`, at most `max` of them, found by
/// skipping from one term to the next (one seek per term, not one per posting).
fn prefix_terms<T: ReadableTable<&'static str, ()>>(
    table: &T,
    owner: &Owner,
    prefix: &str,
    max: usize,
) -> anyhow::Result<BTreeSet<String>> {
    let base = format!("{}{SEP}", owner.as_str());
    let mut terms = BTreeSet::new();
    let mut from = format!("{base}{prefix}");
    while terms.len() < max {
        let next = table.range::<&str>(from.as_str()..)?.next().transpose()?;
        let Some((key, _)) = next else { break };
        let key = key.value();
        let Some(rest) = key.strip_prefix(base.as_str()) else {
            break;
        };
        let Some((term, _)) = rest.split_once(SEP) else {
            break;
        };
        if !term.starts_with(prefix) {
            break;
        }
        terms.insert(term.to_owned());
        // SEP + 1: past every posting of this term.
        from = format!("{base}{term}\u{1}");
    }
    Ok(terms)
}
