//! Memberships in GraphQL: the `Membership` type, the `viewer`, and the join/leave/invite/
//! approve/role/remove mutations.

use crate::context::{request, service};
use crate::error::{GqlResult, gql};
use crate::types::{MembershipStatus, Role};
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use scaffold_domain::PersonId;
use scaffold_domain::membership::Membership;

fn person_id(id: &ID) -> GqlResult<PersonId> {
    PersonId::parse_or_not_found(id.as_str()).map_err(gql)
}

/// Someone's place in a group.
#[derive(Debug, Clone)]
pub struct MembershipObj(pub Membership);

#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Member")]
pub struct MemberObj {
    pub id: ID,
    pub display_name: String,
}

#[Object(name = "Membership")]
impl MembershipObj {
    async fn group_id(&self) -> ID {
        ID(self.0.group_id.to_string())
    }
    async fn person(&self, ctx: &Context<'_>) -> GqlResult<MemberObj> {
        let p = request(ctx)?.people.load_one(self.0.person_id).await.map_err(|e| (*e).clone())?;
        Ok(MemberObj {
            id: ID(self.0.person_id.to_string()),
            display_name: p.map(|p| p.display_name).unwrap_or_default(),
        })
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    async fn status(&self) -> MembershipStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The signed-in caller, with their identities, assurance, memberships and apps (those need the
/// `profile` scope; without it they are empty).
#[derive(SimpleObject, Debug)]
#[graphql(name = "Viewer", complex)]
pub struct ViewerObj {
    pub id: ID,
    pub display_name: String,
    pub scopes: Vec<String>,
    /// `api_key`, `app`, `session`, `provider_token` or `local`.
    pub credential: String,
    pub identities: Vec<IdentityObj>,
    pub assurance: Option<AssuranceObj>,
    /// The first 50 memberships (REST `/api/v1/me/memberships` pages through all).
    pub memberships: Vec<MembershipObj>,
}

#[async_graphql::ComplexObject]
impl ViewerObj {
    /// The person's apps: only for the person themselves (signed in, or with one of their API
    /// keys), never through an app or a token acting for them (`PERSON_CREDENTIAL_REQUIRED`).
    async fn apps(&self, ctx: &Context<'_>) -> GqlResult<Vec<AppObj>> {
        let page = service(ctx)?.apps(&request(ctx)?.actor, false, None, 100).await.map_err(gql)?;
        Ok(page.items.into_iter().map(app_obj).collect())
    }

    /// Attestations offered to and held by the caller, newest first: the person themselves
    /// with `profile`, or a delegated credential with `attestations:hold`.
    async fn attestations(&self, ctx: &Context<'_>) -> GqlResult<Vec<AttestationObj>> {
        let service = service(ctx)?;
        let public = service.identity().config().public_url.clone();
        Ok(service
            .my_attestations(&request(ctx)?.actor)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|a| AttestationObj {
                id: ID(a.id.to_string()),
                attestation_type: a.attestation_type.as_str().to_owned(),
                vct: a.attestation_type.vct(&public),
                state: a.state.as_str().to_owned(),
                issuer_group_id: a.issuer_group.map(|g| ID(g.to_string())),
                claims: async_graphql::Json(a.claims),
                issued_at: a.issued_at,
                expires_at: a.expires_at,
                created_at: a.created_at,
            })
            .collect())
    }
}

fn words(s: &scaffold_domain::Scopes) -> Vec<String> {
    s.iter().map(|x| x.as_str().to_owned()).collect()
}

fn app_obj(a: scaffold_domain::identity::App) -> AppObj {
    AppObj {
        id: ID(a.id.to_string()),
        client_id: a.client_id,
        name: a.name,
        granted_scopes: words(&a.granted_scopes),
        requested_scopes: words(&a.requested_scopes),
        status: a.status.as_str().to_owned(),
    }
}

/// An attestation, as its holder sees it.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Attestation")]
pub struct AttestationObj {
    pub id: ID,
    /// `dbs-check`, `role-status`, `qualification` or `identity-verified`.
    #[graphql(name = "type")]
    pub attestation_type: String,
    pub vct: String,
    /// `offered`, `active`, `declined`, `revoked` or `withdrawn`.
    pub state: String,
    /// The issuing group; none for identity-verified credentials.
    pub issuer_group_id: Option<ID>,
    /// The claims, as a JSON object.
    pub claims: async_graphql::Json<serde_json::Map<String, serde_json::Value>>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An identity at an OpenID Provider.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Identity")]
pub struct IdentityObj {
    pub id: ID,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub last_login_at: DateTime<Utc>,
}

/// The assurance a provider last asserted.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Assurance")]
pub struct AssuranceObj {
    /// `none`, `low`, `medium` or `high`.
    pub level: String,
    pub provider: String,
    pub source: String,
    pub asserted_at: DateTime<Utc>,
}

/// A developer's app.
#[derive(SimpleObject, Debug)]
#[graphql(name = "App")]
pub struct AppObj {
    pub id: ID,
    pub client_id: String,
    pub name: String,
    pub granted_scopes: Vec<String>,
    pub requested_scopes: Vec<String>,
    pub status: String,
}

#[derive(Default, Debug)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The caller, or null when anonymous.
    async fn viewer(&self, ctx: &Context<'_>) -> GqlResult<Option<ViewerObj>> {
        let actor = &request(ctx)?.actor;
        if actor.person_id().is_none() {
            return Ok(None);
        }
        let me = service(ctx)?.me(actor).await.map_err(gql)?;
        Ok(Some(ViewerObj {
            id: ID(me.person.id.to_string()),
            display_name: me.person.display_name,
            scopes: words(&me.scopes),
            credential: me.credential.name().to_owned(),
            identities: me
                .identities
                .into_iter()
                .map(|i| IdentityObj {
                    id: ID(i.id.to_string()),
                    provider: i.provider,
                    issuer: i.issuer,
                    subject: i.subject,
                    last_login_at: i.last_login_at,
                })
                .collect(),
            assurance: me.assurance.map(|a| AssuranceObj {
                level: a.level.as_str().to_owned(),
                provider: a.provider,
                source: a.source,
                asserted_at: a.asserted_at,
            }),
            memberships: me.memberships.into_iter().map(MembershipObj).collect(),
        }))
    }
}

#[derive(Default, Debug)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Joins a group by its join policy (open: active; approval: pending; invite: needs an invitation).
    async fn join_group(&self, ctx: &Context<'_>, group_id: ID) -> GqlResult<MembershipObj> {
        let id = crate::context::parse_group_id(&group_id)?;
        Ok(MembershipObj(service(ctx)?.join_group(&request(ctx)?.actor, id).await.map_err(gql)?))
    }

    /// Leaves a group; the last owner cannot leave.
    async fn leave_group(&self, ctx: &Context<'_>, group_id: ID) -> GqlResult<bool> {
        let id = crate::context::parse_group_id(&group_id)?;
        service(ctx)?.leave_group(&request(ctx)?.actor, id).await.map_err(gql)?;
        Ok(true)
    }

    /// Invites a person (organisers and owners).
    async fn invite_member(&self, ctx: &Context<'_>, group_id: ID, person_id: ID) -> GqlResult<MembershipObj> {
        let m = service(ctx)?
            .invite_member(
                &request(ctx)?.actor,
                crate::context::parse_group_id(&group_id)?,
                self::person_id(&person_id)?,
            )
            .await
            .map_err(gql)?;
        Ok(MembershipObj(m))
    }

    /// Approves a pending request (organisers and owners).
    async fn approve_member(&self, ctx: &Context<'_>, group_id: ID, person_id: ID) -> GqlResult<MembershipObj> {
        let m = service(ctx)?
            .approve_member(
                &request(ctx)?.actor,
                crate::context::parse_group_id(&group_id)?,
                self::person_id(&person_id)?,
            )
            .await
            .map_err(gql)?;
        Ok(MembershipObj(m))
    }

    /// Changes a member's role (owners). A group always keeps an owner.
    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
        person_id: ID,
        role: Role,
    ) -> GqlResult<MembershipObj> {
        let m = service(ctx)?
            .change_role(
                &request(ctx)?.actor,
                crate::context::parse_group_id(&group_id)?,
                self::person_id(&person_id)?,
                role.into(),
            )
            .await
            .map_err(gql)?;
        Ok(MembershipObj(m))
    }

    /// Removes a member (owners: anyone; organisers: members).
    async fn remove_member(&self, ctx: &Context<'_>, group_id: ID, person_id: ID) -> GqlResult<bool> {
        service(ctx)?
            .remove_member(
                &request(ctx)?.actor,
                crate::context::parse_group_id(&group_id)?,
                self::person_id(&person_id)?,
            )
            .await
            .map_err(gql)?;
        Ok(true)
    }
}
