//! Sources: listings an operator imports from elsewhere. A source is read on a schedule (hourly,
//! backing off after failures) and on demand, within bounds (size, time, redirects, items), with
//! conditional GETs. What it lists becomes read-only groups and events marked with their origin;
//! what it stops listing is removed. A malformed item is skipped and reported in the source's
//! health record; it never stops the run or changes what was imported before.

mod directory;
mod ics;
mod peers;
mod rpde;

pub use peers::{PeerDraft, PeerView, peer_not_found};

use crate::{Service, store_error};
use chrono::{DateTime, Duration, Utc};
use scaffold_domain::event::{Event, EventDraft, OccurrenceOverride, OverrideDraft};
use scaffold_domain::group::{Group, GroupKind, GroupStatus, Guidelines, JoinPolicy, Visibility};
use scaffold_domain::source::{
    ItemProblem, PROBLEMS_KEPT, RunOutcome, Source, SourceDraft, SourceHealth, SourceKind, SourceState,
};
use scaffold_domain::{Actor, DomainError, EventId, GroupId, Scope, Slug, SourceId, codes};
use scaffold_store::{ImportRun, ImportedEvent, StoreError};
use std::collections::HashMap;

/// The most a source's answer may be.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The most items read from one source.
pub const MAX_ITEMS: usize = 5_000;
/// The longest a read may take, answer included, by default (`sources.fetch_timeout_secs`).
pub const FETCH_SECS: u64 = 30;

/// The HTTP client sources and peers are read with, and its time limit (for messages).
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    secs: u64,
}
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;
/// How long a replica holds a source it is reading before another may take it.
const LEASE_MINUTES: i64 = 30;

/// One item a source lists, as a draft.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub key: String,
    pub url: Option<String>,
    pub draft: EventDraft,
    pub changes: Vec<ItemChange>,
}

/// A changed date of an item's series.
#[derive(Debug, Clone)]
pub(crate) struct ItemChange {
    pub local_start: String,
    pub draft: OverrideDraft,
}

/// At most `max` characters, ending with an ellipsis when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out = out.trim_end().to_owned();
    out.push('…');
    out
}

/// What reading a source's URL gave.
#[derive(Debug)]
enum Fetched {
    NotModified,
    Body { text: String, etag: Option<String>, last_modified: Option<String> },
}

fn source_not_found() -> DomainError {
    SourceId::not_found()
}

/// The error in words an operator understands.
fn fetch_error(e: &reqwest::Error, url: &str, secs: u64) -> String {
    let host = host_of(url);
    if e.is_timeout() {
        format!("{host} did not answer within {secs} seconds")
    } else if e.is_redirect() {
        format!("the address redirects too many times (more than {MAX_REDIRECTS}) or in a loop")
    } else if e.is_connect() {
        format!("could not connect to {host}")
    } else {
        format!("could not read from {host}: the connection failed")
    }
}

async fn fetch(client: &Fetcher, url: &str, state: &SourceState) -> Result<Fetched, String> {
    let mut req = client.client.get(url).header("accept", "text/calendar, application/json;q=0.9, */*;q=0.1");
    if let Some(e) = &state.etag {
        req = req.header("if-none-match", e);
    }
    if let Some(m) = &state.last_modified {
        req = req.header("if-modified-since", m);
    }
    let mut resp = req.send().await.map_err(|e| fetch_error(&e, url, client.secs))?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    if resp.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
        return Err(format!("the answer is larger than {} MB", MAX_BYTES / (1024 * 1024)));
    }
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (etag, last_modified) = (header("etag"), header("last-modified"));
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fetch_error(&e, url, client.secs))? {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(format!("the answer is larger than {} MB", MAX_BYTES / (1024 * 1024)));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body).map_err(|_| "the answer is not UTF-8 text".to_owned())?;
    Ok(Fetched::Body { text, etag, last_modified })
}

/// The host a URL names, for showing where something comes from without its path or query (a
/// private calendar's address, a feed key).
fn host_of(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
}

/// A small public document (a peer's status list): bounded like every source read.
pub(crate) async fn fetch_text(client: &Fetcher, url: &str) -> Result<String, String> {
    match fetch(client, url, &SourceState::default()).await? {
        Fetched::Body { text, .. } => Ok(text),
        Fetched::NotModified => Err("the server answered 304 Not Modified to a plain request".to_owned()),
    }
}

/// The group a source's events are listed under, named after the source. It shows the source's
/// host only: the address itself may be a private calendar's, or carry a key.
fn holder_group(source: &Source, now: DateTime<Utc>) -> Group {
    let id = GroupId::new_v7(now);
    Group {
        id,
        slug: Slug::from_trusted(format!("imported-{}", id.0.simple())),
        name: clip(&source.name, scaffold_domain::group::NAME_MAX),
        summary: clip(&format!("Listings imported from {}", host_of(&source.url)), scaffold_domain::group::SUMMARY_MAX),
        description: None,
        kind: GroupKind::CommunityGroup,
        categories: Vec::new(),
        area: None,
        contact_email: None,
        links: Vec::new(),
        visibility: Visibility::Public,
        join_policy: JoinPolicy::Invite,
        guidelines: Guidelines { template: None, text: String::new() },
        identifiers: Vec::new(),
        member_count: 0,
        status: GroupStatus::Active,
        origin: Some(source.origin("", None, now)),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// A domain error in words, for a health record.
fn in_words(e: &DomainError) -> String {
    if e.fields.is_empty() {
        return e.message.clone();
    }
    e.fields
        .iter()
        .map(|f| format!("{}: {}", f.pointer.trim_start_matches('/'), f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a run found, before it is written.
#[derive(Debug, Default)]
struct Outcome {
    events: Vec<ImportedEvent>,
    removed: Vec<EventId>,
    groups: Vec<Group>,
    removed_groups: Vec<GroupId>,
    added: u32,
    changed: u32,
    problems: Vec<ItemProblem>,
    skipped: u32,
}

/// What reading a source gave.
#[derive(Debug, Default)]
struct Read {
    items: Vec<Item>,
    /// Ids the source deleted (a feed); `None` for a source that lists everything each time.
    deleted: Option<Vec<String>>,
    problems: Vec<ItemProblem>,
    /// Bounds cut the read short (nothing is removed for being absent).
    truncated: bool,
    /// Where the next run starts (validators, the feed position); `None` keeps the old one.
    state: Option<SourceState>,
    /// `304 Not Modified`.
    unchanged: bool,
    /// Something the operator should know that is not a problem with an item (bounds reached).
    notice: Option<String>,
    /// Why the read stopped, when it failed (what was read before is still applied).
    failure: Option<String>,
    /// A directory's organisations (an ORUK source), instead of events.
    orgs: Option<Vec<directory::Org>>,
}

/// Organisations read from a directory per page, and pages per run.
const DIRECTORY_PER_PAGE: u32 = 100;

/// Reads an Open Referral UK API's organisations, page by page to the last, within the bounds.
/// A read that cannot show it saw the whole listing (its own counts, ids on every item, within
/// the bounds) is marked cut short, so that nothing is removed for being absent.
async fn read_directory(client: &Fetcher, source: &Source) -> Result<Read, String> {
    let mut read = Read { orgs: Some(Vec::new()), state: Some(SourceState::default()), ..Read::default() };
    let mut orgs: Vec<directory::Org> = Vec::new();
    let started = std::time::Instant::now();
    let max_pages = u32::try_from(MAX_PAGES).unwrap_or(50);
    let mut total_items = None;
    let mut finished = false;
    for n in 1..=max_pages {
        if started.elapsed() > std::time::Duration::from_secs(FEED_READ_SECS) || orgs.len() >= MAX_ITEMS {
            break;
        }
        let url = directory::listing_url(&source.url, n, DIRECTORY_PER_PAGE);
        let text = match fetch(client, &url, &SourceState::default()).await? {
            Fetched::Body { text, .. } => text,
            Fetched::NotModified => return Err("the server answered 304 Not Modified to a plain request".to_owned()),
        };
        let page = directory::page(&text)?;
        if n == 1 {
            total_items = page.total_items;
        }
        read.truncated |= page.unkeyed;
        let empty = page.orgs.is_empty() && page.problems.is_empty();
        orgs.extend(page.orgs);
        read.problems.extend(page.problems);
        // The last page says so; an empty page before the pages the listing counts is not the end.
        if page.last || (empty && page.total_pages.is_none_or(|t| u64::from(n) >= t)) {
            finished = true;
            break;
        }
        if empty {
            break;
        }
    }
    let seen = orgs.len() + read.problems.len();
    if !finished || total_items.is_some_and(|t| (seen as u64) < t) {
        read.truncated = true;
        read.notice = Some(format!(
            "It read {seen} of {} organisations in this run: nothing was removed for being absent.",
            total_items.map_or("the".to_owned(), |t| t.to_string())
        ));
    }
    read.orgs = Some(orgs);
    Ok(read)
}

async fn read_calendar(client: &Fetcher, source: &Source) -> Result<Read, String> {
    match fetch(client, &source.url, &source.state).await? {
        Fetched::NotModified => Ok(Read { unchanged: true, ..Read::default() }),
        Fetched::Body { text, etag, last_modified } => {
            let ics::Parsed { items, problems, truncated } = ics::parse(&text, MAX_ITEMS)?;
            Ok(Read {
                items,
                problems,
                truncated,
                state: Some(SourceState { etag, last_modified, next: None }),
                ..Read::default()
            })
        }
    }
}

/// Pages read from a feed in one run; the next run reads on from where this one stopped.
pub const MAX_PAGES: usize = 50;
/// The longest one run reads a feed for (shorter than the lease, so two replicas never read one
/// source at once); the next run reads on.
const FEED_READ_SECS: u64 = 15 * 60;

/// Walks an RPDE feed from where the last run stopped to its end (a page with no items), within
/// the bounds. The latest state of each item wins.
async fn read_feed(client: &Fetcher, source: &Source) -> Result<Read, String> {
    let mut at = source.state.next.clone().unwrap_or_else(|| source.url.clone());
    let mut latest: Vec<(String, Option<Item>)> = Vec::new();
    let mut read = Read { deleted: Some(Vec::new()), ..Read::default() };
    let mut seen = 0;
    let started = std::time::Instant::now();
    for n in 0..=MAX_PAGES {
        if started.elapsed() > std::time::Duration::from_secs(FEED_READ_SECS) {
            read.notice = Some(format!(
                "It read for {} minutes, the most for one run: the next run reads on.",
                FEED_READ_SECS / 60
            ));
            break;
        }
        if n == MAX_PAGES || seen >= MAX_ITEMS {
            read.notice =
                Some(format!("It read {n} pages ({seen} items), the most for one run: the next run reads on."));
            break;
        }
        let page = match fetch(client, &at, &SourceState::default()).await {
            Ok(Fetched::Body { text, .. }) => rpde::page(&text),
            Ok(Fetched::NotModified) => Err("the server answered 304 Not Modified to a plain request".to_owned()),
            Err(e) => Err(e),
        };
        let page = match page {
            Ok(p) => p,
            Err(e) if n == 0 => return Err(e),
            Err(e) => {
                read.failure = Some(format!("{e} (at {at})"));
                break;
            }
        };
        seen += page.items;
        read.problems.extend(page.problems);
        for entry in page.entries {
            let (key, item) = match entry {
                rpde::Entry::Updated(item) => (item.key.clone(), Some(*item)),
                rpde::Entry::Deleted(key) => (key, None),
            };
            latest.retain(|(k, _)| *k != key);
            latest.push((key, item));
        }
        let next = page.next.as_deref().and_then(|x| url::Url::parse(&at).ok()?.join(x).ok());
        // A feed's pages stay on its own origin: a `next` elsewhere is not followed.
        let origin = url::Url::parse(&source.url).ok().map(|u| u.origin());
        if let Some(n) = &next
            && Some(n.origin()) != origin
        {
            read.failure =
                Some(format!("the page at {at} names a next page on another site ({})", host_of(n.as_str())));
            break;
        }
        match next.map(String::from) {
            None => {
                read.failure = Some(format!("the page at {at} has no next URL"));
                break;
            }
            Some(next) if page.items == 0 => {
                at = next;
                break;
            }
            Some(next) if next == at => {
                read.problems.push(ItemProblem {
                    item: at.clone(),
                    message: "the feed's next URL does not move on from a page with items: it was read once".to_owned(),
                });
                break;
            }
            Some(next) => at = next,
        }
    }
    read.state = Some(SourceState { next: Some(at), ..SourceState::default() });
    for (key, item) in latest {
        match item {
            Some(i) => read.items.push(i),
            None => read.deleted.get_or_insert_with(Vec::new).push(key),
        }
    }
    Ok(read)
}

impl Service {
    pub(crate) fn client(&self) -> Result<Fetcher, DomainError> {
        let secs = self.identity.config().source_fetch_secs;
        let client = scaffold_identity::fetch_client(MAX_REDIRECTS, std::time::Duration::from_secs(secs))
            .map_err(|e| DomainError::internal(Box::<dyn std::error::Error + Send + Sync>::from(e)))?;
        Ok(Fetcher { client, secs })
    }

    /// Adds a source (operators): it is read at once in the background, then hourly.
    pub async fn add_source(&self, actor: &Actor, draft: &SourceDraft) -> Result<Source, DomainError> {
        let person = actor.require(Scope::Admin)?;
        let (kind, url, name) = draft.validate()?;
        let now = self.clock.now();
        let source = Source {
            id: SourceId::new_v7(now),
            kind,
            url,
            name,
            peer_id: None,
            state: SourceState::default(),
            health: SourceHealth::default(),
            next_run_at: now,
            created_at: now,
            version: 1,
        };
        // A directory's organisations are groups of their own; events are listed under one.
        let holders = if kind == SourceKind::Oruk { Vec::new() } else { vec![holder_group(&source, now)] };
        let audit = self.audit(
            Some(person),
            "source.create",
            "source",
            source.id,
            serde_json::json!({ "kind": source.kind.as_str(), "host": host_of(&source.url) }),
        );
        self.store.create_source(&source, &holders, &audit).await.map_err(|e| match e {
            StoreError::Conflict { constraint: "source" } => {
                DomainError::conflict(codes::SOURCE_EXISTS, "a source of this kind with this URL is already added")
            }
            e => store_error(e),
        })?;
        Ok(source)
    }

    /// Every source with its health (operators).
    pub async fn sources(&self, actor: &Actor) -> Result<Vec<Source>, DomainError> {
        actor.require(Scope::Admin)?;
        self.store.sources().await.map_err(store_error)
    }

    pub async fn source(&self, actor: &Actor, id: SourceId) -> Result<Source, DomainError> {
        actor.require(Scope::Admin)?;
        self.store.source_by_id(id).await.map_err(store_error)?.ok_or_else(source_not_found)
    }

    /// The group a source's events are listed under.
    pub async fn source_group(&self, id: SourceId) -> Result<Option<Group>, DomainError> {
        Ok(self.store.imported_groups(id).await.map_err(store_error)?.into_iter().next())
    }

    /// Removes a source and everything it brought (operators).
    pub async fn delete_source(&self, actor: &Actor, id: SourceId) -> Result<(), DomainError> {
        let person = actor.require(Scope::Admin)?;
        let audit = self.audit(Some(person), "source.delete", "source", id, serde_json::json!({}));
        self.store.delete_source(id, self.clock.now(), &audit).await.map_err(|e| match e {
            StoreError::NotFound => source_not_found(),
            e => store_error(e),
        })
    }

    /// Reads a source now (operators) and answers with its new health.
    pub async fn sync_source(&self, actor: &Actor, id: SourceId) -> Result<Source, DomainError> {
        let person = actor.require(Scope::Admin)?;
        let source = self.source(actor, id).await?;
        let audit = self.audit(Some(person), "source.sync", "source", id, serde_json::json!({}));
        self.run_source(source, Some(&audit)).await?;
        self.source(actor, id).await
    }

    /// Reads the sources that are due, one at a time (the background job); how many it read.
    pub async fn sync_due_sources(&self, max: u32) -> Result<u32, DomainError> {
        let mut done = 0;
        while done < max {
            let now = self.clock.now();
            let claimed =
                self.store.claim_due_source(now, now + Duration::minutes(LEASE_MINUTES)).await.map_err(store_error)?;
            let Some(source) = claimed else { break };
            let id = source.id;
            if let Err(e) = self.run_source(source, None).await {
                tracing::warn!(source = %id, error = %e, "a source run could not be saved");
            }
            done += 1;
        }
        Ok(done)
    }

    /// One run: read, compare with what the source brought before, write the difference and the
    /// health record in one transaction.
    async fn run_source(
        &self,
        source: Source,
        audit: Option<&scaffold_domain::audit::AuditEntry>,
    ) -> Result<(), DomainError> {
        let started = self.clock.now();
        let client = self.client()?;
        let read = match source.kind {
            SourceKind::Ical => read_calendar(&client, &source).await,
            SourceKind::Rpde => read_feed(&client, &source).await,
            SourceKind::Oruk => read_directory(&client, &source).await,
        };
        let mut health = SourceHealth {
            last_run_at: Some(started),
            last_success_at: source.health.last_success_at,
            ..SourceHealth::default()
        };
        let mut run = ImportRun {
            source: source.id,
            expected_version: source.version,
            state: source.state.clone(),
            health: health.clone(),
            next_run_at: Source::next_run(started, 0),
            groups: Vec::new(),
            removed_groups: Vec::new(),
            events: Vec::new(),
            removed_events: Vec::new(),
            all_seen_at: None,
            at: started,
        };
        let mut read = match read {
            Ok(r) => r,
            Err(message) => Read { failure: Some(message), ..Read::default() },
        };
        if let Some(peer) = source.peer_id {
            // A peer's keys are re-read with its listings, so that a key it rotates in is
            // trusted and one it drops is not.
            if let Err(e) = self.refresh_peer_keys(&client, peer).await {
                let n = format!(
                    "The peer's issuer keys could not be re-read ({}); the ones read before are used.",
                    e.message
                );
                read.notice = Some(read.notice.map_or(n.clone(), |m| format!("{m} {n}")));
            }
        }
        let mut failed = read.failure.clone();
        if read.unchanged {
            health.outcome = RunOutcome::Unchanged;
            health.message = "the source has not changed since the last run".to_owned();
            health.last_success_at = Some(started);
            run.all_seen_at = Some(started);
        } else if read.state.is_some() || failed.is_none() {
            let whole = read.deleted.is_none();
            let state = read.state.clone().unwrap_or_else(|| source.state.clone());
            let notice = read.notice.clone();
            let outcome = match self.reconcile(&source, read, started).await {
                Ok(o) => o,
                Err(e) => {
                    // Recorded like a failed read: nothing is applied, the feed position stays.
                    failed = Some(e.message);
                    Outcome::default()
                }
            };
            if failed.is_none() || !outcome.events.is_empty() || !outcome.removed.is_empty() {
                run.state = state;
            }
            health.added = outcome.added;
            health.changed = outcome.changed;
            health.removed = u32::try_from(outcome.removed.len() + outcome.removed_groups.len()).unwrap_or(u32::MAX);
            health.skipped = outcome.skipped;
            health.problems = outcome.problems;
            health.message = format!(
                "Read {}: {} added, {} changed, {} removed, {} skipped{}.",
                match source.kind {
                    SourceKind::Ical => "the calendar",
                    SourceKind::Rpde => "the feed",
                    SourceKind::Oruk => "the directory",
                },
                health.added,
                health.changed,
                health.removed,
                health.skipped,
                if health.skipped > 0 { " (see the problems for why)" } else { "" }
            );
            if let Some(n) = notice {
                health.message.push(' ');
                health.message.push_str(&n);
            }
            health.outcome = RunOutcome::Ok;
            health.last_success_at = Some(started);
            run.events = outcome.events;
            run.removed_events = outcome.removed;
            run.groups = outcome.groups;
            run.removed_groups = outcome.removed_groups;
            run.all_seen_at = whole.then_some(started);
        }
        if let Some(message) = failed {
            let failures = source.health.consecutive_failures.saturating_add(1);
            health.outcome = RunOutcome::Failed;
            health.consecutive_failures = failures;
            health.last_success_at = source.health.last_success_at;
            run.next_run_at = Source::next_run(started, failures);
            let kept = if run.events.is_empty() && run.removed_events.is_empty() && run.groups.is_empty() {
                "What it brought before is kept.".to_owned()
            } else {
                format!("What was read before the failure was applied ({}).", health.message.trim_end_matches('.'))
            };
            health.message = format!(
                "Could not read the source: {message}. {kept} The next try is at {} UTC.",
                run.next_run_at.format("%Y-%m-%d %H:%M")
            );
        }
        run.health = health;
        match self.store.apply_import(&run, audit).await {
            Ok(()) => Ok(()),
            // Removed meanwhile, or read by another run at the same time: that run's result stands.
            Err(StoreError::NotFound) => Err(source_not_found()),
            Err(StoreError::VersionMismatch) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Compares what the source lists with what it brought before.
    async fn reconcile(&self, source: &Source, read: Read, now: DateTime<Utc>) -> Result<Outcome, DomainError> {
        if read.orgs.is_some() {
            return self.reconcile_directory(source, read, now).await;
        }
        let Read { items, deleted, problems, truncated, .. } = read;
        let holder = self.source_group(source.id).await?.ok_or_else(|| {
            DomainError::conflict(
                codes::CONFLICT,
                "the group its listings go under is gone (remove the source and add it again)",
            )
        })?;
        let before = self.store.imported_events(source.id).await.map_err(store_error)?;
        let ids: Vec<EventId> = before.iter().map(|e| e.id).collect();
        let mut old_overrides: HashMap<EventId, Vec<OccurrenceOverride>> = HashMap::new();
        // In chunks: SQLite binds one variable per id.
        for chunk in ids.chunks(1_000) {
            for (id, o) in self.store.overrides_of_events(chunk).await.map_err(store_error)? {
                old_overrides.entry(id).or_default().push(o);
            }
        }
        let mut by_key: HashMap<String, Event> =
            before.into_iter().filter_map(|e| e.origin.clone().map(|o| (o.key, e))).collect();
        let mut out = Outcome { skipped: u32::try_from(problems.len()).unwrap_or(u32::MAX), ..Outcome::default() };
        let mut keep: std::collections::HashSet<String> = problems.iter().map(|p| p.item.clone()).collect();
        out.problems = problems;
        for item in items {
            keep.insert(item.key.clone());
            let old = by_key.remove(&item.key);
            let id = old.as_ref().map_or_else(|| EventId::new_v7(now), |e| e.id);
            let mut event = match item.draft.validate(id, holder.id, now) {
                Ok(e) => e,
                Err(e) => {
                    out.skipped += 1;
                    out.problems.push(ItemProblem { item: item.key.clone(), message: in_words(&e) });
                    continue;
                }
            };
            event.origin = Some(source.origin(item.key.clone(), item.url.clone(), now));
            let mut before = old.as_ref().and_then(|o| old_overrides.remove(&o.id)).unwrap_or_default();
            let mut overrides = Vec::new();
            for c in &item.changes {
                match c.draft.validate(&event, &c.local_start) {
                    Ok(o) => overrides.push(o),
                    Err(e) => {
                        out.problems.push(ItemProblem {
                            item: format!("{} on {}", item.key, c.local_start),
                            message: in_words(&e),
                        });
                        // The change imported before for that date stands (a cancellation is
                        // not undone by a change that could not be read).
                        let at = chrono::NaiveDateTime::parse_from_str(&c.local_start, "%Y-%m-%dT%H:%M:%S").ok();
                        overrides.extend(before.iter().filter(|o| Some(o.local_start) == at).cloned());
                    }
                }
            }
            if let Some(old) = &old {
                let mut same = event.clone();
                same.version = old.version;
                same.created_at = old.created_at;
                same.updated_at = old.updated_at;
                same.origin = old.origin.clone();
                before.sort_by_key(|o| o.local_start);
                overrides.sort_by_key(|o| o.local_start);
                if same == *old && before == overrides {
                    continue;
                }
                event.version = old.version + 1;
                event.created_at = old.created_at;
                out.changed += 1;
            } else {
                out.added += 1;
            }
            let listing = match event.listing(&overrides, now) {
                Ok(l) => l,
                Err(e) => {
                    out.skipped += 1;
                    out.problems.push(ItemProblem { item: item.key.clone(), message: in_words(&e) });
                    continue;
                }
            };
            out.events.push(ImportedEvent { event, overrides, listing });
        }
        out.removed = match deleted {
            // A whole calendar: what it no longer lists (unless it was cut short).
            None if truncated => Vec::new(),
            None => by_key.into_iter().filter(|(k, _)| !keep.contains(k)).map(|(_, e)| e.id).collect(),
            // A feed: what it deleted (and did not list again after).
            Some(gone) => {
                gone.iter().filter(|k| !keep.contains(*k)).filter_map(|k| by_key.remove(k)).map(|e| e.id).collect()
            }
        };
        out.problems.truncate(PROBLEMS_KEPT);
        Ok(out)
    }

    /// Compares a directory's organisations with the groups it brought before.
    async fn reconcile_directory(
        &self,
        source: &Source,
        read: Read,
        now: DateTime<Utc>,
    ) -> Result<Outcome, DomainError> {
        let Read { orgs, problems, truncated, .. } = read;
        let mut by_key: HashMap<String, Group> = self
            .store
            .imported_groups(source.id)
            .await
            .map_err(store_error)?
            .into_iter()
            .filter_map(|g| g.origin.clone().map(|o| (o.key, g)))
            .collect();
        let mut out = Outcome { skipped: u32::try_from(problems.len()).unwrap_or(u32::MAX), ..Outcome::default() };
        let mut keep: std::collections::HashSet<String> = problems.iter().map(|p| p.item.clone()).collect();
        out.problems = problems;
        for org in orgs.unwrap_or_default() {
            if !keep.insert(org.key.clone()) {
                out.skipped += 1;
                out.problems.push(ItemProblem {
                    item: org.key.clone(),
                    message: "the directory listed this id twice in one read: the first was kept".to_owned(),
                });
                continue;
            }
            let old = by_key.remove(&org.key);
            let mut g = match &old {
                Some(o) => o.clone(),
                None => holder_group(source, now),
            };
            let charity = org.identifiers.iter().any(|i| i.scheme != scaffold_domain::group::IdentifierScheme::Company);
            g.kind = if charity { GroupKind::Charity } else { GroupKind::CommunityGroup };
            g.name = org.name.clone();
            g.summary = org.summary.clone();
            g.description = org.description.clone();
            g.links = org.links();
            g.contact_email = org.email.clone();
            g.identifiers = org.identifiers.clone();
            g.origin = Some(source.origin(org.key.clone(), org.website.clone(), now));
            match &old {
                Some(o) if Group { origin: o.origin.clone(), ..g.clone() } == *o => continue,
                Some(o) => {
                    g.version = o.version + 1;
                    g.updated_at = now;
                    out.changed += 1;
                }
                None => out.added += 1,
            }
            out.groups.push(g);
        }
        if !truncated {
            out.removed_groups = by_key.into_iter().filter(|(k, _)| !keep.contains(k)).map(|(_, g)| g.id).collect();
        }
        out.problems.truncate(PROBLEMS_KEPT);
        Ok(out)
    }
}
