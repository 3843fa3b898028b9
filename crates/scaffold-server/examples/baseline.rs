//! The benchmark baseline: a trivial axum server that answers every request with a fixed JSON body
//! of about the size of a group (and serves as the webhook receiver of the delivery benchmark). `scripts/bench` measures the service as a ratio of this, on the
//! same machine in the same run. Usage: `baseline ADDR`.

use axum::Router;
use axum::http::header;

const BODY: &str = r#"{"id":"01a20504-c260-70ce-a796-12b397595694","slug":"wigan-techmates","name":"Wigan TechMates","summary":"Tea, cake and friendly help with phones and tablets","description":"We meet every Tuesday at Wigan Library.","kind":"community-group","categories":["digital-inclusion","older-people"],"area":{"outcode":"WN1","latitude":53.55104,"longitude":-2.63014},"contact_email":"techmates@example.org","links":[],"visibility":"public","join_policy":"open","guidelines":{"template":"welcoming-space","text":"Be kind. Listen. No harassment. Look after each other. Keep it private. If something goes wrong, talk to an organiser."},"status":"active","version":1,"member_count":1,"viewer_membership":null,"created_at":"2026-11-22T20:35:47.426599Z","updated_at":"2026-11-22T20:35:47.426599Z"}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18090".to_owned());
    let app = Router::new().fallback(|| async { ([(header::CONTENT_TYPE, "application/json")], BODY) });
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
