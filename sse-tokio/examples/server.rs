//! The server in the workspace README: `GET /events?channel=..` on
//! 127.0.0.1:5000 for signed-in users, and a clock publishing on `time`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sse_tokio::Publisher;
use sse_tokio::proto::Event;
use sse_tokio::publisher::PublisherConfig;
use sse_tokio::server::{Events, Refusal};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // Ids from the clock, so a client coming back from an earlier run gets
    // the reset event instead of a wrong replay.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let config = PublisherConfig::new().with_first_id(now.as_millis() as u64);
    // Each subscriber's properties: its user name.
    let publisher: Publisher<String> = Publisher::with_config(config).expect("valid config");

    let events = Events::with_access(publisher.clone(), |parts, channels| {
        match parts
            .headers
            .get("x-user")
            .and_then(|user| user.to_str().ok())
        {
            None => Err(Refusal::unauthorized("sign in first")),
            Some(user) if channels.iter().any(|c| c == "admin") => {
                Err(Refusal::forbidden(format!("{user} is not an admin")))
            }
            Some(user) => Ok(user.to_owned()),
        }
    });

    let clock = publisher.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = format!("{:?}", SystemTime::now());
            let _ = clock.publish(Event::new(&now), "time");
        }
    });

    let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
    axum::serve(listener, events.router()).await
}
