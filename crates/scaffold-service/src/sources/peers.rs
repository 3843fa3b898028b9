//! Peer instances: an operator adds another instance by its base URL. This instance reads the
//! peer's issuer metadata and its OpenActive dataset, mirrors its public sessions through an RPDE
//! source and its directory of groups through an Open Referral UK source (so they show their
//! origin and follow its edits and deletions), and trusts it as an
//! issuer of the attestation types the operator chose. Removing a peer removes its trust and its
//! mirrored listings at once.

use super::{Fetched, Fetcher, fetch, holder_group};
use crate::{Service, store_error};
use scaffold_attest::PublicKey;
use scaffold_domain::attestation::AttestationType;
use scaffold_domain::source::{Peer, Source, SourceHealth, SourceKind, SourceState, URL_MAX};
use scaffold_domain::{Actor, DomainError, FieldError, PeerId, Scope, SourceId, codes, text};
use scaffold_store::StoreError;
use serde_json::Value;

/// What an operator sends to add a peer.
#[derive(Debug, Clone, Default)]
pub struct PeerDraft {
    pub base_url: String,
    /// Shown as the origin of its listings; the peer's own name when not given.
    pub name: Option<String>,
    /// Attestation types accepted from the peer.
    pub trust: Vec<String>,
}

/// A peer and the sources that mirror it.
#[derive(Debug, Clone)]
pub struct PeerView {
    pub peer: Peer,
    pub sources: Vec<Source>,
}

pub fn peer_not_found() -> DomainError {
    DomainError::not_found(codes::PEER_NOT_FOUND, "there is no peer with that id")
}

fn unreachable(message: String) -> DomainError {
    DomainError::invalid_field("/base_url", codes::PEER_UNREACHABLE, message)
}

async fn json_at(client: &Fetcher, url: &str) -> Result<Value, DomainError> {
    match fetch(client, url, &SourceState::default()).await {
        Ok(Fetched::Body { text, .. }) => {
            serde_json::from_str(&text).map_err(|_| unreachable(format!("{url} did not answer with JSON")))
        }
        Ok(Fetched::NotModified) => Err(unreachable(format!("{url} answered 304 Not Modified to a plain request"))),
        Err(e) => Err(unreachable(format!("could not read {url}: {e}"))),
    }
}

/// The peer's issuer and keys, from `/.well-known/jwt-vc-issuer`; the issuer must be the peer.
pub(crate) async fn issuer_metadata(client: &Fetcher, base: &str) -> Result<(String, Value), DomainError> {
    let url = format!("{base}/.well-known/jwt-vc-issuer");
    let meta = json_at(client, &url).await?;
    let issuer = meta.get("issuer").and_then(Value::as_str).unwrap_or_default().trim_end_matches('/').to_owned();
    if issuer != base {
        return Err(unreachable(format!("{url} names the issuer {issuer:?}, not {base}")));
    }
    // Only keys this instance can check credentials with are kept (P-256 signing keys); a peer
    // that publishes none is trusted with none.
    let keys: Vec<Value> = meta
        .pointer("/jwks/keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|k| PublicKey::from_jwk(k).is_ok())
        .cloned()
        .collect();
    Ok((issuer, serde_json::json!({ "keys": keys })))
}

impl PeerDraft {
    fn validate(&self) -> Result<(String, Option<String>, Vec<AttestationType>), DomainError> {
        let mut errors = Vec::new();
        let base = text::http_url("/base_url", &self.base_url, URL_MAX)
            .map(|u| u.trim_end_matches('/').to_owned())
            .and_then(|u| match url::Url::parse(&u) {
                // Keys are read from the peer: over https, or on this machine (tests, one host).
                Ok(p) if p.scheme() == "http" && !matches!(p.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) => {
                    Err(FieldError::new("/base_url", codes::INVALID_URL, "a peer is reached over https"))
                }
                Ok(p) if p.query().is_none() && p.fragment().is_none() && p.username().is_empty() => Ok(u),
                _ => Err(FieldError::new(
                    "/base_url",
                    codes::INVALID_URL,
                    "must be the instance's base URL, without a query or fragment",
                )),
            })
            .map_err(|e| errors.push(e))
            .ok();
        let name = match &self.name {
            None => None,
            Some(n) => {
                text::bounded("/name", n, 1, scaffold_domain::source::NAME_MAX, false).map_err(|e| errors.push(e)).ok()
            }
        };
        let mut trust = Vec::new();
        for (i, t) in self.trust.iter().enumerate() {
            match AttestationType::parse(t) {
                Some(t) if !trust.contains(&t) => trust.push(t),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    format!("/trust/{i}"),
                    codes::INVALID_VALUE,
                    format!(
                        "must be one of {}",
                        AttestationType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
        match base {
            Some(b) if errors.is_empty() => Ok((b, name, trust)),
            _ => Err(DomainError::invalid(errors)),
        }
    }
}

impl Service {
    /// Adds a peer (operators): reads its metadata and dataset, adds the source that mirrors its
    /// sessions (read at once in the background, then hourly), and trusts it for `trust`.
    pub async fn add_peer(&self, actor: &Actor, draft: &PeerDraft) -> Result<PeerView, DomainError> {
        let person = actor.require(Scope::Admin)?;
        let (base, name, trusted_types) = draft.validate()?;
        if base == self.identity.config().public_url.trim_end_matches('/') {
            return Err(DomainError::invalid_field("/base_url", codes::INVALID_URL, "this is this instance's own URL"));
        }
        let client = self.client()?;
        let (issuer, jwks) = issuer_metadata(&client, &base).await?;
        if jwks["keys"].as_array().is_none_or(Vec::is_empty) {
            return Err(unreachable(format!("{base}/.well-known/jwt-vc-issuer publishes no P-256 signing key")));
        }
        let dataset = json_at(&client, &format!("{base}/openactive")).await?;
        let sessions = dataset
            .get("distribution")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|d| d.get("additionalType").and_then(Value::as_str) == Some("https://openactive.io/SessionSeries"))
            .and_then(|d| d.get("contentUrl").and_then(Value::as_str))
            .filter(|u| u.starts_with(&format!("{base}/")))
            .map(str::to_owned)
            .ok_or_else(|| unreachable(format!("{base}/openactive lists no SessionSeries feed of its own")))?;
        // Its directory (Open Referral UK), when it has one: its groups become entries here.
        let directory = match json_at(&client, &format!("{base}/oruk/")).await {
            Ok(about) if about.get("version").and_then(Value::as_str).is_some_and(|v| v.starts_with("HSDS-UK-3")) => {
                Some(format!("{base}/oruk"))
            }
            _ => None,
        };
        let name = name
            .or_else(|| dataset.pointer("/publisher/name").and_then(Value::as_str).map(str::to_owned))
            .map(|n| super::clip(&n, scaffold_domain::source::NAME_MAX))
            .unwrap_or_else(|| base.clone());
        let now = self.clock.now();
        let peer = Peer {
            id: PeerId::new_v7(now),
            base_url: base.clone(),
            name: name.clone(),
            issuer,
            jwks,
            trusted_types,
            created_at: now,
            updated_at: now,
        };
        let source = Source {
            id: SourceId::new_v7(now),
            kind: SourceKind::Rpde,
            url: sessions,
            name,
            peer_id: Some(peer.id),
            state: SourceState::default(),
            health: SourceHealth::default(),
            next_run_at: now,
            created_at: now,
            version: 1,
        };
        let holder = holder_group(&source, now);
        let mut sources = vec![(source.clone(), vec![holder])];
        if let Some(url) = directory {
            let id = SourceId::new_v7(now);
            sources.push((Source { id, kind: SourceKind::Oruk, url, ..source.clone() }, Vec::new()));
        }
        let audit = self.audit(
            Some(person),
            "peer.create",
            "peer",
            peer.id,
            serde_json::json!({ "base_url": base, "trust": peer.trusted_types.iter().map(|t| t.as_str()).collect::<Vec<_>>() }),
        );
        self.store.create_peer(&peer, &sources, &audit).await.map_err(|e| match e {
            StoreError::Conflict { constraint: "peer" } => {
                DomainError::conflict(codes::PEER_EXISTS, "a peer with this base URL is already added")
            }
            StoreError::Conflict { constraint: "source" } => DomainError::conflict(
                codes::SOURCE_EXISTS,
                "the peer's session feed or directory is already added as a source: remove that source first",
            ),
            e => store_error(e),
        })?;
        Ok(PeerView { peer, sources: sources.into_iter().map(|(s, _)| s).collect() })
    }

    /// Re-reads a peer's issuer metadata and keeps its new keys (its issuer must not change).
    pub(crate) async fn refresh_peer_keys(&self, client: &Fetcher, id: PeerId) -> Result<(), DomainError> {
        let Some(peer) = self.store.peer_by_id(id).await.map_err(store_error)? else {
            return Ok(());
        };
        let (issuer, jwks) = issuer_metadata(client, &peer.base_url).await?;
        if issuer != peer.issuer {
            return Err(unreachable(format!("the peer now names the issuer {issuer:?}, not {:?}", peer.issuer)));
        }
        if jwks != peer.jwks {
            self.store.set_peer_keys(id, &jwks, self.clock.now()).await.map_err(store_error)?;
        }
        Ok(())
    }

    /// Every peer with its sources (operators).
    pub async fn peers(&self, actor: &Actor) -> Result<Vec<PeerView>, DomainError> {
        actor.require(Scope::Admin)?;
        let sources = self.store.sources().await.map_err(store_error)?;
        Ok(self
            .store
            .peers()
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|peer| {
                let sources = sources.iter().filter(|s| s.peer_id == Some(peer.id)).cloned().collect();
                PeerView { peer, sources }
            })
            .collect())
    }

    pub async fn peer(&self, actor: &Actor, id: PeerId) -> Result<PeerView, DomainError> {
        self.peers(actor).await?.into_iter().find(|p| p.peer.id == id).ok_or_else(peer_not_found)
    }

    /// Removes a peer (operators): its trust ends at once, and its mirrored listings go.
    pub async fn delete_peer(&self, actor: &Actor, id: PeerId) -> Result<(), DomainError> {
        let person = actor.require(Scope::Admin)?;
        let audit = self.audit(Some(person), "peer.delete", "peer", id, serde_json::json!({}));
        self.store.delete_peer(id, self.clock.now(), &audit).await.map_err(|e| match e {
            StoreError::NotFound => peer_not_found(),
            e => store_error(e),
        })
    }
}
