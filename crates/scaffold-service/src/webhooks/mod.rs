//! Webhooks for community developers (Standard Webhooks): an app subscribes an endpoint to change
//! types (each needs a scope the app is granted) narrowed by a group, outward codes or attestation
//! types; its secret is shown once and rotates with an overlap; the worker delivers each queued
//! change, signed, retried with backoff and jitter, logged per subscription, replayable, and a
//! subscription that keeps failing is disabled with its reason. Who may manage a subscription: the
//! app's owner (signed in or with their own key) and the app itself (its client credentials token).
//! Sending is in `deliver.rs`.

mod deliver;

use crate::{Service, store_error};
use chrono::{DateTime, Duration, Utc};
use scaffold_domain::attestation::AttestationType;
use scaffold_domain::change::ChangeType;
use scaffold_domain::codes;
use scaffold_domain::identity::{App, AppStatus};
use scaffold_domain::webhook::{Delivery, Webhook, WebhookFilter, WebhookSecret, WebhookStatus};
use scaffold_domain::{Actor, AppId, ChangeId, Credential, DomainError, FieldError, GroupId, Outcode, WebhookId};
use serde_json::json;

pub use deliver::WebhookSettings;

/// Subscriptions one app may hold.
pub const MAX_WEBHOOKS_PER_APP: usize = 20;
/// How long the secret before a rotation keeps signing.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// What a subscription is to listen for, as given.
#[derive(Debug, Clone, Default)]
pub struct WebhookDraft {
    pub url: String,
    pub types: Vec<String>,
    pub group_id: Option<String>,
    pub outcodes: Vec<String>,
    pub attestation_types: Vec<String>,
}

/// A subscription with its secret in clear: returned once, on creation and on rotation.
#[derive(Debug)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    pub secret: WebhookSecret,
}

fn webhook_not_found() -> DomainError {
    WebhookId::not_found()
}

fn new_secret() -> Result<WebhookSecret, DomainError> {
    scaffold_identity::new_webhook_secret().map(WebhookSecret).map_err(DomainError::internal)
}

impl Service {
    /// The app, when the caller may manage its webhooks: its owner in person, or the app itself.
    async fn webhook_app(&self, actor: &Actor, id: AppId) -> Result<App, DomainError> {
        let person =
            actor.person_id().ok_or_else(|| DomainError::unauthenticated("this operation needs a bearer token"))?;
        let app = self.store.app_by_id(id).await.map_err(store_error)?.ok_or_else(AppId::not_found)?;
        let allowed = match actor.credential() {
            Some(Credential::App(own)) => own == id,
            Some(c) => c.is_personal() && app.owner == person,
            None => false,
        };
        if !allowed {
            return Err(AppId::not_found());
        }
        if app.status != AppStatus::Active {
            return Err(DomainError::conflict(codes::APP_REVOKED, "the app has been revoked"));
        }
        Ok(app)
    }

    async fn app_webhook(&self, actor: &Actor, app: AppId, id: WebhookId) -> Result<(App, Webhook), DomainError> {
        let app = self.webhook_app(actor, app).await?;
        let w = self.store.webhook_by_id(id).await.map_err(store_error)?.filter(|w| w.app_id == app.id);
        Ok((app, w.ok_or_else(webhook_not_found)?))
    }

    /// Checks a draft against the app's granted scopes and the delivery rules.
    async fn webhook_filter(
        &self,
        actor: &Actor,
        app: &App,
        d: &WebhookDraft,
    ) -> Result<(String, WebhookFilter), DomainError> {
        let mut errors = Vec::new();
        let url = match self.webhook_url(&d.url) {
            Ok(u) => u,
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
        let mut types = Vec::new();
        if d.types.is_empty() {
            errors.push(FieldError::new("/types", codes::REQUIRED, "name at least one change type"));
        }
        for (i, t) in d.types.iter().enumerate() {
            let at = format!("/types/{i}");
            match ChangeType::parse(t) {
                None => errors.push(FieldError::new(
                    at.as_str(),
                    codes::UNKNOWN_CHANGE_TYPE,
                    format!("`{t}` is not a change type"),
                )),
                Some(t) if !app.granted_scopes.contains(t.scope()) => errors.push(FieldError::new(
                    &at,
                    codes::SCOPE_NOT_GRANTED,
                    format!("`{t}` needs the app to be granted `{}`", t.scope()),
                )),
                Some(t) if types.contains(&t) => {
                    errors.push(FieldError::new(at.as_str(), codes::DUPLICATE, format!("`{t}` is named twice")));
                }
                Some(t) => types.push(t),
            }
        }
        let mut outcodes = Vec::new();
        for (i, o) in d.outcodes.iter().enumerate() {
            match Outcode::parse(&format!("/outcodes/{i}"), o) {
                Ok(o) if !outcodes.contains(&o.as_str().to_owned()) => outcodes.push(o.as_str().to_owned()),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        let mut attestation_types = Vec::new();
        for (i, t) in d.attestation_types.iter().enumerate() {
            match AttestationType::parse(t) {
                Some(t) if !attestation_types.contains(&t) => attestation_types.push(t),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    format!("/attestation_types/{i}"),
                    codes::INVALID_VALUE,
                    format!("`{t}` is not an attestation type"),
                )),
            }
        }
        let group_id = match d.group_id.as_deref() {
            None => None,
            Some(g) => match GroupId::parse(g) {
                // Only a group the caller can see (a private group's existence is not told).
                Some(id) if self.visible_group(actor, &crate::groups::GroupRef::Id(id)).await.is_ok() => Some(id),
                _ => {
                    errors.push(FieldError::new("/group_id", codes::INVALID_VALUE, "there is no group with that id"));
                    None
                }
            },
        };
        // A filter narrows the types it concerns; one that concerns none of the types named would
        // silently drop everything.
        let filter = WebhookFilter { types, group_id, outcodes, attestation_types };
        for (field, given, applies) in [
            (
                "/attestation_types",
                !filter.attestation_types.is_empty(),
                ChangeType::is_attestation as fn(ChangeType) -> bool,
            ),
            ("/outcodes", !filter.outcodes.is_empty(), ChangeType::has_area),
            ("/group_id", filter.group_id.is_some(), ChangeType::has_group),
        ] {
            if given && !filter.types.is_empty() && !filter.types.iter().all(|t| applies(*t)) {
                errors.push(FieldError::new(
                    field,
                    codes::INVALID_VALUE,
                    "this filter applies to only some of the types named: subscribe those types separately",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        Ok((url, filter))
    }

    /// An app subscribes an endpoint; the secret is in the answer, once.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        app: AppId,
        draft: &WebhookDraft,
    ) -> Result<WebhookWithSecret, DomainError> {
        let app = self.webhook_app(actor, app).await?;
        let (url, filter) = self.webhook_filter(actor, &app, draft).await?;
        if self.store.webhooks_of_app(app.id).await.map_err(store_error)?.len() >= MAX_WEBHOOKS_PER_APP {
            return Err(DomainError::invalid_field(
                "/url",
                codes::TOO_MANY,
                format!("an app holds at most {MAX_WEBHOOKS_PER_APP} webhooks: delete one first"),
            ));
        }
        let now = self.clock.now();
        let secret = new_secret()?;
        let webhook = Webhook {
            id: WebhookId::new_v7(now),
            app_id: app.id,
            url,
            filter,
            secret: secret.clone(),
            previous_secret: None,
            status: WebhookStatus::Active,
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
        };
        let types: Vec<&str> = webhook.filter.types.iter().map(|t| t.as_str()).collect();
        let audit = self.audit(
            actor.person_id(),
            "webhook.create",
            "webhook",
            webhook.id,
            json!({ "app_id": app.id, "types": types }),
        );
        self.store.create_webhook(&webhook, &audit).await.map_err(store_error)?;
        Ok(WebhookWithSecret { webhook, secret })
    }

    /// The signed-in person's apps' webhooks that were disabled, with the app's name: the notice
    /// to their owner (on their account page).
    pub async fn my_disabled_webhooks(&self, actor: &Actor) -> Result<Vec<(String, Webhook)>, DomainError> {
        let person = actor.require_person()?;
        let mut out = Vec::new();
        for app in self.store.apps_of_person(person).await.map_err(store_error)? {
            if app.status != AppStatus::Active {
                continue;
            }
            for w in self.store.webhooks_of_app(app.id).await.map_err(store_error)? {
                if w.status == WebhookStatus::Disabled {
                    out.push((app.name.clone(), w));
                }
            }
        }
        Ok(out)
    }

    pub async fn webhooks(&self, actor: &Actor, app: AppId) -> Result<Vec<Webhook>, DomainError> {
        let app = self.webhook_app(actor, app).await?;
        self.store.webhooks_of_app(app.id).await.map_err(store_error)
    }

    pub async fn webhook(&self, actor: &Actor, app: AppId, id: WebhookId) -> Result<Webhook, DomainError> {
        Ok(self.app_webhook(actor, app, id).await?.1)
    }

    pub async fn delete_webhook(&self, actor: &Actor, app: AppId, id: WebhookId) -> Result<(), DomainError> {
        let (app, w) = self.app_webhook(actor, app, id).await?;
        let audit = self.audit(actor.person_id(), "webhook.delete", "webhook", w.id, json!({ "app_id": app.id }));
        self.store.delete_webhook(w.id, &audit).await.map_err(|e| match e {
            scaffold_store::StoreError::NotFound => webhook_not_found(),
            other => store_error(other),
        })
    }

    /// A new secret; the old one keeps signing (beside it) for [`ROTATION_OVERLAP_HOURS`].
    pub async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        app: AppId,
        id: WebhookId,
    ) -> Result<WebhookWithSecret, DomainError> {
        let (_, mut w) = self.app_webhook(actor, app, id).await?;
        let now = self.clock.now();
        let secret = new_secret()?;
        w.previous_secret = Some((w.secret.clone(), now + Duration::hours(ROTATION_OVERLAP_HOURS)));
        w.secret = secret.clone();
        w.updated_at = now;
        let audit = self.audit(actor.person_id(), "webhook.rotate_secret", "webhook", w.id, json!({}));
        self.store.update_webhook(&w, &audit).await.map_err(store_error)?;
        Ok(WebhookWithSecret { webhook: w, secret })
    }

    /// Turns a subscription on (its waiting deliveries are sent again, its failures forgotten) or
    /// off (nothing is queued for it meanwhile).
    pub async fn set_webhook_enabled(
        &self,
        actor: &Actor,
        app: AppId,
        id: WebhookId,
        enabled: bool,
    ) -> Result<Webhook, DomainError> {
        let (_, mut w) = self.app_webhook(actor, app, id).await?;
        let status = if enabled { WebhookStatus::Active } else { WebhookStatus::Disabled };
        if w.status == status {
            return Ok(w);
        }
        w.status = status;
        w.updated_at = self.clock.now();
        w.consecutive_failures = 0;
        w.disabled_reason = (!enabled).then(|| "Disabled by the app.".to_owned());
        let action = if enabled { "webhook.enable" } else { "webhook.disable" };
        let audit = self.audit(actor.person_id(), action, "webhook", w.id, json!({}));
        self.store.update_webhook(&w, &audit).await.map_err(store_error)?;
        Ok(w)
    }

    /// A subscription's delivery log, newest first.
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        app: AppId,
        id: WebhookId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<Delivery>, DomainError> {
        let (_, w) = self.app_webhook(actor, app, id).await?;
        self.store.deliveries(w.id, before, limit).await.map_err(store_error)
    }

    /// Sends a change again (delivered, failed or waiting), with the same `webhook-id`.
    pub async fn replay_delivery(
        &self,
        actor: &Actor,
        app: AppId,
        id: WebhookId,
        change: ChangeId,
    ) -> Result<(), DomainError> {
        let (_, w) = self.app_webhook(actor, app, id).await?;
        if w.status != WebhookStatus::Active {
            return Err(DomainError::conflict(codes::WEBHOOK_DISABLED, "the webhook is disabled: enable it first"));
        }
        let audit = self.audit(actor.person_id(), "webhook.replay", "webhook", w.id, json!({ "change_id": change }));
        self.store.replay_delivery(w.id, change, self.clock.now(), &audit).await.map_err(|e| match e {
            scaffold_store::StoreError::NotFound => {
                DomainError::not_found(codes::DELIVERY_NOT_FOUND, "the webhook has no delivery of that change")
            }
            other => store_error(other),
        })
    }
}
