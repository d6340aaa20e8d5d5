//! One of several nodes sharing events through Redis (the workspace
//! README's "Several nodes"): `GET /events?channel=..` on the port given
//! (5001 by default), and a clock publishing on `time` through Redis, which
//! every node's subscribers receive with the same ids. Start two:
//! `cargo run -p sse-tokio --features axum,redis --example redis_node -- 5002`.

use std::time::Duration;

use sse_tokio::Publisher;
use sse_tokio::proto::Event;
use sse_tokio::publisher::PublisherConfig;
use sse_tokio::redis::{RedisConfig, RedisPublisher};
use sse_tokio::server::Events;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = std::env::args().nth(1).unwrap_or_else(|| "5001".into());
    // Ids come from Redis, so the local publisher makes none.
    let local: Publisher = Publisher::with_config(PublisherConfig::new().with_generate_ids(false))?;
    let redis = RedisPublisher::connect(local, RedisConfig::new("redis://127.0.0.1:6379")).await?;

    let clock = redis.clone();
    let name = port.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let tick = format!("tick from node {name}");
            // Fails, and says so, while Redis is unreachable.
            if let Err(error) = clock.publish(Event::new(&tick), "time").await {
                eprintln!("{error}");
            }
        }
    });

    // Subscribers resume on any node from the id another node gave them.
    let app = Events::new(redis).router();
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
