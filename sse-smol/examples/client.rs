//! The client in the workspace README: prints the events of a stream,
//! reconnecting as the connection model decides.

use smol::stream::StreamExt;
use sse_smol::{EventSource, SourceEvent};

fn main() -> Result<(), sse_smol::Error> {
    smol::block_on(async {
        let mut source = EventSource::new("http://127.0.0.1:5000/events")?;
        while let Some(item) = source.next().await {
            match item {
                Ok(SourceEvent::Message(event)) => {
                    println!("{}: {}", event.event_type(), event.data())
                }
                Ok(_) => {}                         // Open after each (re)connect
                Err(error) => eprintln!("{error}"), // reported; it reconnects
            }
        }
        Ok(()) // 204, a failure not retried, too many attempts, or close()
    })
}
