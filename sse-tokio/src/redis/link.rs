//! The node's link to Redis: the connection for commands (publishes and
//! resume reads, multiplexed), how the reader opens its own, and the link's
//! health.

use core::time::Duration;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Cmd, RedisError, ScriptInvocation, Value};

use super::{Error, Health, RedisConfig, RedisId};

/// Locks, going on after a panic elsewhere: every value behind these locks
/// stays valid between statements.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The link's state as [`Health`] reports it.
#[derive(Debug)]
struct State {
    up: bool,
    since: SystemTime,
    last_error: Option<String>,
    /// Times the link came back up.
    reconnects: u64,
}

/// Connections to one Redis, and the health of the link.
pub(super) struct Link {
    client: Client,
    /// Commands answer within the timeout.
    commands: AsyncConnectionConfig,
    /// The reader's blocking reads answer within the block time plus the
    /// timeout.
    reads: AsyncConnectionConfig,
    /// The multiplexed connection for commands, opened when first needed and
    /// dropped after a connection error.
    connection: Mutex<Option<MultiplexedConnection>>,
    /// Held while connecting, so that callers arriving together share one
    /// attempt.
    connecting: tokio::sync::Mutex<()>,
    state: Mutex<State>,
}

impl Link {
    pub(super) fn new(config: &RedisConfig) -> Result<Self, Error> {
        let client = Client::open(config.url.as_str())?;
        let commands = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout));
        let reads = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.block.saturating_add(config.timeout)));
        Ok(Self {
            client,
            commands,
            reads,
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            state: Mutex::new(State {
                up: true,
                since: SystemTime::now(),
                last_error: None,
                reconnects: 0,
            }),
        })
    }

    /// The command connection, opened if there is none.
    async fn connection(&self) -> Result<MultiplexedConnection, RedisError> {
        if let Some(connection) = lock(&self.connection).as_ref() {
            return Ok(connection.clone());
        }
        let _connecting = self.connecting.lock().await;
        if let Some(connection) = lock(&self.connection).as_ref() {
            return Ok(connection.clone());
        }
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&self.commands)
            .await?;
        *lock(&self.connection) = Some(connection.clone());
        Ok(connection)
    }

    /// Forgets the command connection after an error that says it is gone,
    /// so that the next command opens a fresh one instead of failing on a
    /// dead socket.
    fn failed(&self, error: &RedisError) {
        if error.is_io_error() || error.is_unrecoverable_error() {
            self.forget_connection();
        }
        lock(&self.state).last_error = Some(error.to_string());
    }

    /// Forgets the command connection (the reader saw the link drop).
    pub(super) fn forget_connection(&self) {
        *lock(&self.connection) = None;
    }

    /// Runs a command on the command connection.
    pub(super) async fn query(&self, command: &Cmd) -> Result<Value, Error> {
        let mut connection = self.connection().await.inspect_err(|e| self.failed(e))?;
        command
            .query_async(&mut connection)
            .await
            .inspect_err(|e| self.failed(e))
            .map_err(Error::Redis)
    }

    /// Runs a script (`EVALSHA`, loading it first if Redis does not have
    /// it, as after a restart) on the command connection.
    pub(super) async fn invoke(&self, script: &ScriptInvocation<'_>) -> Result<Value, Error> {
        let mut connection = self.connection().await.inspect_err(|e| self.failed(e))?;
        script
            .invoke_async(&mut connection)
            .await
            .inspect_err(|e| self.failed(e))
            .map_err(Error::Redis)
    }

    /// A new connection for the reader's blocking reads: its own, since a
    /// blocked read holds up every command behind it on a connection.
    pub(super) async fn reader_connection(&self) -> Result<MultiplexedConnection, RedisError> {
        self.client
            .get_multiplexed_async_connection_with_config(&self.reads)
            .await
    }

    /// The reader is connected and reading.
    pub(super) fn up(&self) {
        let mut state = lock(&self.state);
        if !state.up {
            state.up = true;
            state.since = SystemTime::now();
            state.reconnects += 1;
        }
    }

    /// The reader lost the link; whether it was up before.
    pub(super) fn down(&self, error: &RedisError) -> bool {
        let mut state = lock(&self.state);
        state.last_error = Some(error.to_string());
        let was_up = state.up;
        if was_up {
            state.up = false;
            state.since = SystemTime::now();
        }
        was_up
    }

    pub(super) fn health(&self, cursor: RedisId, lag: Option<Duration>) -> Health {
        let state = lock(&self.state);
        Health {
            up: state.up,
            since: state.since,
            last_error: state.last_error.clone(),
            cursor,
            reconnects: state.reconnects,
            lag,
        }
    }
}
