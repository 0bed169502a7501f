//! Sending planned writes: a bounded pool of tokio workers that turns [`Job`]s into API calls
//! and hands each job's [`Outcome`] back as a value, with the exactly-once rules for creates.
//!
//! This module owns concurrency (`--concurrency` workers fed through a bounded channel, so
//! memory stays flat), the rule that no two jobs with the same key are in flight at once, the
//! stop switch (a fatal API error or Ctrl-C stops new sends while in-flight calls finish), and
//! what to do when a write's answer is in doubt: a create is looked up by its key before
//! anything is resent; edits and `updateOrCreateEntity` are idempotent and simply resent.
//! Pacing and the retrying of calls that never reached the server belong to the client; files,
//! reports and the journal belong to the caller, reached through [`Hooks`]. Each job carries
//! an opaque payload `T` that comes back untouched in its outcome.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;

use crate::client::{ApiError, Client};
use crate::schema::{Attribute, TableSchema};

/// The write one row needs.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// `addcompany` / `addcontact`: attribute codes and wire values (a contact's company link
    /// included, as `(id)`).
    Add(Vec<(String, String)>),
    /// `updateOrCreateEntity` with attribute-name/value pairs. It matches by the table's name
    /// attribute, so resending it can never duplicate. `creates` is what the plan expects.
    Upsert {
        pairs: Vec<(String, String)>,
        creates: bool,
    },
    /// `editcompany` / `editcontact` of the changed attributes (may be empty), then a
    /// `setcontact` to `link_company` when the contact's company changed.
    Edit {
        id: String,
        values: Vec<(String, String)>,
        link_company: Option<String>,
    },
}

impl WriteOp {
    fn creates(&self) -> bool {
        match self {
            WriteOp::Add(_) => true,
            WriteOp::Upsert { creates, .. } => *creates,
            WriteOp::Edit { .. } => false,
        }
    }
}

/// One row's write, with the caller's payload.
#[derive(Debug, Clone)]
pub struct Job<T> {
    /// The row's value of the key attribute; empty when it has none (then it cannot be
    /// verified after an in-doubt answer, and is not protected against parallel sends).
    pub key: String,
    pub op: WriteOp,
    pub payload: T,
}

/// What a job's write came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    /// The API refused the write, or its outcome could not be settled.
    Failed,
    /// Never sent: the run was stopping (Ctrl-C or a fatal error). Not finished; a resumed
    /// run sends it.
    NotSent,
}

/// One job's outcome, handed to [`Hooks::finished`].
#[derive(Debug, Clone)]
pub struct Outcome<T> {
    pub written: Written,
    /// The entry's id, when known.
    pub id: Option<String>,
    /// The API's words and ours; empty on a plain success.
    pub message: String,
    /// Write calls made for this job (resends included).
    pub attempts: u32,
    /// The outcome was settled by looking the entry up after an in-doubt answer.
    pub verified: bool,
    pub payload: T,
}

/// How the caller learns about progress. Both are called from worker tasks.
pub trait Hooks<T>: Send + Sync + 'static {
    /// Called before a create is first sent, so a crash leaves a trace to verify on resume.
    /// It must be durable when it returns; an error stops the run before the call is sent.
    fn before_create(&self, payload: &T) -> std::io::Result<()>;
    /// Called exactly once per job with its outcome.
    fn finished(&self, outcome: Outcome<T>);
}

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C.
    Interrupted,
    /// An error no further row can get past (authentication, rights, a broken journal).
    Fatal(String),
}

/// The shared stop switch: once set, no new write is started.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<StopInner>);

#[derive(Debug, Default)]
struct StopInner {
    set: AtomicBool,
    reason: Mutex<Option<StopReason>>,
}

impl Stop {
    /// Sets the switch; the first reason given is kept.
    pub fn request(&self, reason: StopReason) {
        if let Ok(mut slot) = self.0.reason.lock() {
            slot.get_or_insert(reason);
        }
        self.0.set.store(true, Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.0.set.load(Ordering::SeqCst)
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.0.reason.lock().ok().and_then(|r| r.clone())
    }
}

/// Settings of a pool.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub table: TableSchema,
    /// The attribute a created entry is looked up by after an in-doubt answer.
    pub key: Attribute,
    /// Workers, i.e. calls in flight at once (at least 1).
    pub concurrency: usize,
    /// How many times one write is resent after in-doubt answers that verification showed
    /// did not take effect.
    pub max_resends: u32,
    /// Upsert mode: a create refused because its key is already in use (another writer
    /// created the entry after the pre-flight read) becomes an edit of that entry.
    pub update_on_duplicate_key: bool,
}

/// A running pool. Feed it with [`Pool::send`], then [`Pool::finish`].
pub struct Pool<T> {
    jobs: mpsc::Sender<Job<T>>,
    workers: JoinSet<()>,
}

impl<T: Send + 'static> Pool<T> {
    /// Starts `options.concurrency` workers on the current tokio runtime.
    pub fn start(
        client: Client,
        options: ExecOptions,
        hooks: Arc<dyn Hooks<T>>,
        stop: Stop,
    ) -> Pool<T> {
        let concurrency = options.concurrency.max(1);
        let (tx, rx) = mpsc::channel(concurrency * 2);
        let shared = Arc::new(Shared {
            client,
            options,
            hooks,
            stop,
            in_flight: InFlight::default(),
            jobs: tokio::sync::Mutex::new(rx),
        });
        let mut workers = JoinSet::new();
        for _ in 0..concurrency {
            workers.spawn(worker(shared.clone()));
        }
        Pool { jobs: tx, workers }
    }

    /// A sender for feeding the pool from a blocking thread (`blocking_send`).
    pub fn sender(&self) -> mpsc::Sender<Job<T>> {
        self.jobs.clone()
    }

    /// Queues one job, waiting while the queue is full.
    pub async fn send(&self, job: Job<T>) {
        // The receivers live until every sender is gone, so this cannot fail.
        let _ = self.jobs.send(job).await;
    }

    /// Closes the queue and waits for every queued and in-flight job to finish.
    pub async fn finish(self) {
        drop(self.jobs);
        let mut workers = self.workers;
        while let Some(joined) = workers.join_next().await {
            if let Err(err) = joined {
                tracing::error!("a worker stopped unexpectedly: {err}");
            }
        }
    }
}

struct Shared<T> {
    client: Client,
    options: ExecOptions,
    hooks: Arc<dyn Hooks<T>>,
    stop: Stop,
    in_flight: InFlight,
    jobs: tokio::sync::Mutex<mpsc::Receiver<Job<T>>>,
}

async fn worker<T: Send + 'static>(shared: Arc<Shared<T>>) {
    loop {
        let job = { shared.jobs.lock().await.recv().await };
        let Some(job) = job else { return };
        let outcome = if shared.stop.is_set() {
            not_sent(job.payload, &shared.stop)
        } else {
            let _guard = shared.in_flight.acquire(&job.key).await;
            run_job(&shared, job).await
        };
        shared.hooks.finished(outcome);
    }
}

fn not_sent<T>(payload: T, stop: &Stop) -> Outcome<T> {
    let why = match stop.reason() {
        Some(StopReason::Fatal(message)) => format!("not sent: the run stopped: {message}"),
        _ => "not sent: the run was interrupted; rerun with --resume".to_string(),
    };
    outcome(Written::NotSent, None, why, 0, payload)
}

fn outcome<T>(
    written: Written,
    id: Option<String>,
    message: String,
    attempts: u32,
    payload: T,
) -> Outcome<T> {
    Outcome {
        written,
        id,
        message,
        attempts,
        verified: false,
        payload,
    }
}

/// Sends one job until it is settled: success, a refusal, or an outcome that could not be
/// verified.
async fn run_job<T: Send + 'static>(shared: &Shared<T>, job: Job<T>) -> Outcome<T> {
    let Job { key, op, payload } = job;
    if op.creates() {
        if let Err(err) = shared.hooks.before_create(&payload) {
            let message = format!("cannot write the journal: {err}");
            shared.stop.request(StopReason::Fatal(message.clone()));
            return outcome(
                Written::NotSent,
                None,
                format!("not sent: {message}"),
                0,
                payload,
            );
        }
    }
    let mut attempts = 0;
    let mut verified = false;
    loop {
        attempts += 1;
        let err = match send(shared, &op).await {
            Ok(id) => {
                let written = if op.creates() {
                    Written::Created
                } else {
                    Written::Updated
                };
                let message = if verified {
                    "resent after an in-doubt answer".to_string()
                } else {
                    String::new()
                };
                return outcome(written, id, message, attempts, payload);
            }
            Err(err) => err,
        };
        if err.is_fatal() {
            shared.stop.request(StopReason::Fatal(err.to_string()));
            let message = format!("not sent: the run stopped: {err}");
            return outcome(Written::NotSent, None, message, attempts, payload);
        }
        if !err.in_doubt() {
            if let (WriteOp::Add(values), true) = (&op, is_duplicate_key(shared, &err)) {
                return update_instead(shared, &key, values, attempts, payload).await;
            }
            return outcome(Written::Failed, None, err.to_string(), attempts, payload);
        }
        if matches!(op, WriteOp::Add(_)) {
            match verify(shared, &key).await {
                Ok(Some(id)) => {
                    let message = "verified after in-doubt answer: the entry exists".to_string();
                    return Outcome {
                        written: Written::Created,
                        id: Some(id),
                        message,
                        attempts,
                        verified: true,
                        payload,
                    };
                }
                Ok(None) => verified = true,
                Err(message) => return outcome(Written::Failed, None, message, attempts, payload),
            }
        }
        if attempts > shared.options.max_resends {
            let message = format!("gave up after {attempts} attempts: {err}");
            return outcome(Written::Failed, None, message, attempts, payload);
        }
        tracing::debug!("resending after an in-doubt answer: {err}");
    }
}

/// Whether `err` refuses a create because its key is in use, in a run that then updates.
fn is_duplicate_key<T>(shared: &Shared<T>, err: &ApiError) -> bool {
    let key = &shared.options.key.code;
    shared.options.update_on_duplicate_key
        && matches!(err, ApiError::Duplicate { fields } if fields.iter().any(|f| &f.code == key))
}

/// An upsert's create lost a race: the key was created by another writer after the
/// pre-flight read. Edit that entry instead, so the row is applied once and not failed.
async fn update_instead<T: Send + 'static>(
    shared: &Shared<T>,
    key: &str,
    values: &[(String, String)],
    attempts: u32,
    payload: T,
) -> Outcome<T> {
    let id = match verify(shared, key).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            let message = format!("the key {key:?} is in use, but no entry has it: check the CRM");
            return outcome(Written::Failed, None, message, attempts, payload);
        }
        Err(message) => return outcome(Written::Failed, None, message, attempts, payload),
    };
    let edit = WriteOp::Edit {
        id: id.clone(),
        values: values.to_vec(),
        link_company: None,
    };
    let message = "created meanwhile by another writer: updated instead".to_string();
    match send(shared, &edit).await {
        Ok(_) => outcome(Written::Updated, Some(id), message, attempts + 1, payload),
        Err(err) => outcome(
            Written::Failed,
            Some(id),
            err.to_string(),
            attempts + 1,
            payload,
        ),
    }
}

/// One attempt of the job's calls; the id of the entry written when known.
async fn send<T: Send + 'static>(
    shared: &Shared<T>,
    op: &WriteOp,
) -> Result<Option<String>, ApiError> {
    let client = &shared.client;
    let table = &shared.options.table;
    match op {
        WriteOp::Add(values) => client.add(table, values).await.map(Some),
        WriteOp::Upsert { pairs, .. } => client
            .update_or_create(table, pairs)
            .await
            .map(|o| o.id().map(str::to_string)),
        WriteOp::Edit {
            id,
            values,
            link_company,
        } => {
            if !values.is_empty() {
                client.edit(table, id, values).await?;
            }
            if let Some(company) = link_company {
                client.set_contact(company, id).await?;
            }
            Ok(Some(id.clone()))
        }
    }
}

/// Looks a created entry up by its key. `Ok(None)`: it does not exist, so the create did not
/// take effect and may be resent. `Err`: the outcome is unknown and must not be guessed.
async fn verify<T: Send + 'static>(
    shared: &Shared<T>,
    key: &str,
) -> Result<Option<String>, String> {
    if key.trim().is_empty() {
        return Err(
            "no answer to a create, and the row has no key to look it up by: \
                    check the CRM before loading this row again"
                .to_string(),
        );
    }
    let mut last = String::new();
    for pause in [0u64, 500, 2000] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        match shared
            .client
            .find(&shared.options.table, &shared.options.key, key)
            .await
        {
            Ok(found) => return Ok(found.into_iter().next().map(|e| e.id)),
            Err(err) if err.is_fatal() => {
                shared.stop.request(StopReason::Fatal(err.to_string()));
                last = err.to_string();
                break;
            }
            Err(err) => last = err.to_string(),
        }
    }
    Err(format!(
        "no answer to a create, and looking it up by key failed ({last}): \
         check the CRM before loading this row again"
    ))
}

/// The keys being written right now, so two rows with one key never race.
#[derive(Default)]
struct InFlight {
    keys: Mutex<HashSet<String>>,
    released: Notify,
}

struct KeyGuard<'a> {
    owner: &'a InFlight,
    key: Option<String>,
}

impl InFlight {
    async fn acquire(&self, key: &str) -> KeyGuard<'_> {
        // Keys compare as the CRM's uniqueness does: trimmed, ignoring case.
        let key = key.trim().to_lowercase();
        if key.is_empty() {
            return KeyGuard {
                owner: self,
                key: None,
            };
        }
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if self.try_insert(&key) {
                return KeyGuard {
                    owner: self,
                    key: Some(key),
                };
            }
            released.await;
        }
    }

    fn try_insert(&self, key: &str) -> bool {
        match self.keys.lock() {
            Ok(mut keys) => keys.insert(key.to_string()),
            // A poisoned set only means another worker panicked; sending is still safe.
            Err(poisoned) => poisoned.into_inner().insert(key.to_string()),
        }
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            match self.owner.keys.lock() {
                Ok(mut keys) => keys.remove(&key),
                Err(poisoned) => poisoned.into_inner().remove(&key),
            };
            self.owner.released.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_key_is_never_held_twice() {
        let in_flight = Arc::new(InFlight::default());
        let first = in_flight.acquire(" Acme ").await;
        let waiter = {
            let in_flight = in_flight.clone();
            tokio::spawn(async move {
                let _second = in_flight.acquire("acme").await;
            })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        let _other = in_flight.acquire("Other").await;
        drop(first);
        waiter
            .await
            .expect("second acquire completes once the first is released");
    }

    #[test]
    fn stop_keeps_the_first_reason() {
        let stop = Stop::default();
        assert!(!stop.is_set());
        stop.request(StopReason::Fatal("authentication failed".into()));
        stop.request(StopReason::Interrupted);
        assert!(stop.is_set());
        assert_eq!(
            stop.reason(),
            Some(StopReason::Fatal("authentication failed".into()))
        );
    }
}
