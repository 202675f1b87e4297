//! Allowlist application: which allowlist item (if any) suppresses a fired trigger.
//!
//! An item matches when its gate equals the finding's gate (case-insensitive) and its
//! `trigger_id` equals or glob-matches the finding's id (case-sensitive), and it has not
//! expired (`expires_on` strictly in the future). Allowlists apply in mapping order, items in
//! list order; the first match wins. Items with `regexp:` ids are compiled once per evaluation.

use chrono::{DateTime, Utc};
use regex::Regex;

use super::bundle::{Allowlist, AllowlistItem};
use super::mapping::wildcard;

/// Allowlists prepared for one evaluation.
pub(crate) struct Allowlists<'b> {
    items: Vec<Prepared<'b>>,
    /// Items skipped because they expired.
    pub(crate) expired: usize,
}

struct Prepared<'b> {
    list: &'b Allowlist,
    item: &'b AllowlistItem,
    gate: String,
    re: Option<Regex>,
    used: std::cell::Cell<bool>,
}

impl<'b> Allowlists<'b> {
    /// Prepares the given lists (in order) at time `now`.
    pub(crate) fn new(lists: &[&'b Allowlist], now: DateTime<Utc>) -> Self {
        let mut items = Vec::new();
        let mut expired = 0;
        for list in lists {
            for item in &list.items {
                if item.expires_on.is_some_and(|e| e <= now) {
                    expired += 1;
                    continue;
                }
                let re = item
                    .trigger_id
                    .strip_prefix("regexp:")
                    .and_then(|r| Regex::new(&format!("^(?:{r})")).ok());
                items.push(Prepared {
                    list,
                    item,
                    gate: item.gate.to_ascii_lowercase(),
                    re,
                    used: std::cell::Cell::new(false),
                });
            }
        }
        Allowlists { items, expired }
    }

    /// The first item matching (gate, trigger id).
    pub(crate) fn find(
        &self,
        gate: &str,
        trigger_id: &str,
    ) -> Option<(&'b Allowlist, &'b AllowlistItem)> {
        let gate = gate.to_ascii_lowercase();
        for p in &self.items {
            if p.gate != gate {
                continue;
            }
            let hit = match &p.re {
                Some(re) => re.is_match(trigger_id),
                None => wildcard(&p.item.trigger_id, trigger_id),
            };
            if hit {
                p.used.set(true);
                return Some((p.list, p.item));
            }
        }
        None
    }

    /// Items (not expired) that matched nothing.
    pub(crate) fn unused(&self) -> Vec<(&'b Allowlist, &'b AllowlistItem)> {
        self.items
            .iter()
            .filter(|p| !p.used.get())
            .map(|p| (p.list, p.item))
            .collect()
    }
}
