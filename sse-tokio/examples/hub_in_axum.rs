//! The hub inside your own axum application, under `/hub`: the chat page at
//! `/hub/`, `GET /hub/events?channel=..`, `POST /hub/publish`, and the rest
//! of the hub's routes, next to the application's own. Run it with
//! `cargo run -p sse-tokio --features hub --example hub_in_axum`, then open
//! http://127.0.0.1:3000/hub/ in two tabs.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use sse_tokio::Publisher;
use sse_tokio::hub::{ClientInfo, Hub, HubConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let publisher: Publisher<ClientInfo> = Publisher::new();
    let hub = Hub::new(publisher, HubConfig::new());

    let app = Router::new()
        .route(
            "/",
            get(|| async { "my application; the hub is at /hub/\n" }),
        )
        .nest("/hub", hub.router());

    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    // With the client's address for the hub's subscriber list.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}
