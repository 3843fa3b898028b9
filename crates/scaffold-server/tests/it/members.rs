use crate::common::{TestApp, app, group_named};
use serde_json::{Value, json};

async fn setup(app: &TestApp, policy: &str) -> (crate::common::Person, String) {
    let owner = app.member("Owner").await;
    let g = app.group(&owner.token, group_named("the-group", json!({ "join_policy": policy }))).await;
    (owner, g["id"].as_str().unwrap().to_owned())
}

async fn members(app: &TestApp, token: &str, id: &str) -> Vec<(String, String, String)> {
    let res = app.http.get(&format!("/api/v1/groups/{id}/members")).token(token).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["display_name"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn sorted(mut v: Vec<(String, String, String)>) -> Vec<(String, String, String)> {
    v.sort();
    v
}

fn m(name: &str, role: &str, status: &str) -> (String, String, String) {
    (name.to_owned(), role.to_owned(), status.to_owned())
}

#[tokio::test]
async fn open_groups_admit_at_once_and_joining_twice_changes_nothing() {
    let app = app().await;
    let (owner, id) = setup(&app, "open").await;
    let bea = app.member("Bea").await;
    let res = app.http.post(&format!("/api/v1/groups/{id}/join")).token(&bea.token).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["status"], "active");
    let before = app.state().await;
    let again = app.http.post(&format!("/api/v1/groups/{id}/join")).token(&bea.token).send().await;
    assert_eq!(again.json()["status"], "active");
    assert_eq!(app.state().await, before);
    assert_eq!(
        sorted(members(&app, &owner.token, &id).await),
        [m("Bea", "member", "active"), m("Owner", "owner", "active")]
    );
    let g = app.http.get(&format!("/api/v1/groups/{id}")).token(&bea.token).send().await.json();
    assert_eq!(g["member_count"], 2);
    assert_eq!(g["viewer_membership"], json!({ "role": "member", "status": "active" }));
}

#[tokio::test]
async fn approval_groups_wait_for_an_organiser() {
    let app = app().await;
    let (owner, id) = setup(&app, "approval").await;
    let bea = app.member("Bea").await;
    let cal = app.member("Cal").await;
    let res = app.http.post(&format!("/api/v1/groups/{id}/join")).token(&bea.token).send().await;
    assert_eq!(res.json()["status"], "pending");
    app.http
        .get(&format!("/api/v1/groups/{id}/members"))
        .token(&bea.token)
        .send()
        .await
        .problem(403, "GROUP_MEMBERS_ONLY");
    // Another member cannot approve.
    app.http.post(&format!("/api/v1/groups/{id}/join")).token(&cal.token).send().await;
    app.http
        .post(&format!("/api/v1/groups/{id}/members/{}/approve", cal.id))
        .token(&bea.token)
        .send()
        .await
        .problem(403, "GROUP_ROLE_REQUIRED");
    let res =
        app.http.post(&format!("/api/v1/groups/{id}/members/{}/approve", bea.id)).token(&owner.token).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["status"], "active");
    app.http
        .post(&format!("/api/v1/groups/{id}/members/{}/approve", bea.id))
        .token(&owner.token)
        .send()
        .await
        .problem(409, "MEMBERSHIP_NOT_PENDING");
    assert_eq!(
        sorted(members(&app, &bea.token, &id).await),
        [m("Bea", "member", "active"), m("Cal", "member", "pending"), m("Owner", "owner", "active")]
    );
}

#[tokio::test]
async fn invite_only_groups_need_an_invitation() {
    let app = app().await;
    let (owner, id) = setup(&app, "invite").await;
    let bea = app.member("Bea").await;
    let before = app.state().await;
    app.http
        .post(&format!("/api/v1/groups/{id}/join"))
        .token(&bea.token)
        .send()
        .await
        .problem(403, "GROUP_INVITE_ONLY");
    assert_eq!(app.state().await, before);
    let res = app
        .http
        .post(&format!("/api/v1/groups/{id}/invitations"))
        .token(&owner.token)
        .json(&json!({ "person_id": bea.id }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.json()["status"], "invited");
    app.http
        .post(&format!("/api/v1/groups/{id}/invitations"))
        .token(&owner.token)
        .json(&json!({ "person_id": bea.id }))
        .send()
        .await
        .problem(409, "ALREADY_MEMBER");
    let p = app
        .http
        .post(&format!("/api/v1/groups/{id}/invitations"))
        .token(&owner.token)
        .json(&json!({ "person_id": "01900000-0000-7000-8000-000000000000" }))
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    assert_eq!(
        (p["errors"][0]["pointer"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("/person_id"), Some("UNKNOWN_PERSON")),
        "{p}"
    );
    let res = app.http.post(&format!("/api/v1/groups/{id}/join")).token(&bea.token).send().await;
    assert_eq!(res.json()["status"], "active");
}

#[tokio::test]
async fn a_group_always_keeps_an_owner() {
    let app = app().await;
    let (owner, id) = setup(&app, "open").await;
    let before = app.state().await;
    app.http
        .post(&format!("/api/v1/groups/{id}/leave"))
        .token(&owner.token)
        .send()
        .await
        .problem(409, "GROUP_LAST_OWNER");
    app.http
        .patch(&format!("/api/v1/groups/{id}/members/{}", owner.id))
        .token(&owner.token)
        .json(&json!({ "role": "member" }))
        .send()
        .await
        .problem(409, "GROUP_LAST_OWNER");
    app.http
        .delete(&format!("/api/v1/groups/{id}/members/{}", owner.id))
        .token(&owner.token)
        .send()
        .await
        .problem(409, "GROUP_LAST_OWNER");
    assert_eq!(app.state().await, before, "nothing changed");

    // With a second owner, the first may step down.
    let bea = app.member("Bea").await;
    app.http.post(&format!("/api/v1/groups/{id}/join")).token(&bea.token).send().await;
    let res = app
        .http
        .patch(&format!("/api/v1/groups/{id}/members/{}", bea.id))
        .token(&owner.token)
        .json(&json!({ "role": "owner" }))
        .send()
        .await;
    assert_eq!(res.json()["role"], "owner");
    let res = app.http.post(&format!("/api/v1/groups/{id}/leave")).token(&owner.token).send().await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_eq!(members(&app, &bea.token, &id).await, [m("Bea", "owner", "active")]);
}

#[tokio::test]
async fn organisers_manage_members_and_owners_manage_roles() {
    let app = app().await;
    let (owner, id) = setup(&app, "open").await;
    let org = app.member("Organiser").await;
    let mem = app.member("Member").await;
    let other = app.member("Other").await;
    for p in [&org, &mem, &other] {
        app.http.post(&format!("/api/v1/groups/{id}/join")).token(&p.token).send().await;
    }
    let role = |who: &str, token: &str, role: &str| {
        app.http.patch(&format!("/api/v1/groups/{id}/members/{who}")).token(token).json(&json!({ "role": role })).send()
    };
    assert_eq!(role(&org.id, &owner.token, "organiser").await.status, 200);
    role(&mem.id, &org.token, "organiser").await.problem(403, "GROUP_ROLE_REQUIRED");
    role(&org.id, &mem.token, "owner").await.problem(403, "GROUP_ROLE_REQUIRED");
    // Organisers remove members, not organisers or owners.
    let rm =
        |who: &str, token: &str| app.http.delete(&format!("/api/v1/groups/{id}/members/{who}")).token(token).send();
    assert_eq!(rm(&mem.id, &org.token).await.status, 204);
    rm(&owner.id, &org.token).await.problem(403, "GROUP_ROLE_REQUIRED");
    rm(&other.id, &mem.token).await.problem(403, "GROUP_ROLE_REQUIRED");
    assert_eq!(rm(&org.id, &owner.token).await.status, 204);
    rm(&org.id, &owner.token).await.problem(404, "MEMBERSHIP_NOT_FOUND");
    assert_eq!(
        sorted(members(&app, &owner.token, &id).await),
        [m("Other", "member", "active"), m("Owner", "owner", "active")]
    );
}

#[tokio::test]
async fn member_lists_page_and_need_membership() {
    let app = app().await;
    let (owner, id) = setup(&app, "open").await;
    for i in 0..4 {
        let p = app.member(&format!("P{i}")).await;
        app.http.post(&format!("/api/v1/groups/{id}/join")).token(&p.token).send().await;
    }
    let first = app.http.get(&format!("/api/v1/groups/{id}/members?limit=3")).token(&owner.token).send().await.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let next = first["next"].as_str().unwrap();
    let second: Value = app.http.get(next).token(&owner.token).send().await.json();
    assert_eq!(second["items"].as_array().unwrap().len(), 2);
    assert_eq!(second["next"], Value::Null);
    app.http.get(&format!("/api/v1/groups/{id}/members")).send().await.problem(401, "UNAUTHENTICATED");
    let stranger = app.member("Stranger").await;
    app.http
        .get(&format!("/api/v1/groups/{id}/members"))
        .token(&stranger.token)
        .send()
        .await
        .problem(403, "GROUP_MEMBERS_ONLY");
}
