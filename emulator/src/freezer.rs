//! The server's freezer: a container is paused a little after each call and
//! unpaused just before the next.

use std::sync::Arc;
use std::time::Duration;

use crate::sandbox::Freezable;

/// The server pauses an idle container this long after a call ends
/// (`FN_FREEZE_IDLE_MSECS`, default 50): long enough for a function to
/// react to what the call's end did (a closed connection, say).
pub(crate) const SERVER_FREEZE_IDLE: Duration = Duration::from_millis(50);

/// A thawed container runs this long before the server's request reaches
/// it: `docker unpause` is an API round trip, and the agent sends only once
/// it returns. A function that has a closed connection to notice (and exits
/// on it, say) does so first, as on the real server (`docs/oracle.md`,
/// mode `exit-on-close`).
pub(crate) const SERVER_UNFREEZE_LEAD: Duration = Duration::from_millis(10);

/// The server's freezer: a process is stopped [`SERVER_FREEZE_IDLE`] after a
/// call, unless the next call (or a kill) comes first. A timer thread does
/// the stopping, so the harness's own thread never waits for it.
#[derive(Debug, Default)]
pub(crate) struct Freezer {
    state: Arc<std::sync::Mutex<FreezeState>>,
}

#[derive(Debug, Default)]
struct FreezeState {
    /// Bumped by every freeze scheduled and every thaw: a timer whose
    /// generation is no longer current does nothing.
    generation: u64,
    /// The frozen jail, if one is.
    frozen: Option<Freezable>,
}

impl Freezer {
    fn lock(&self) -> std::sync::MutexGuard<'_, FreezeState> {
        lock_state(&self.state)
    }

    /// Freezes `jail` in [`SERVER_FREEZE_IDLE`], unless thawed before.
    pub(crate) fn freeze_later(&self, jail: Freezable) {
        let generation = {
            let mut state = self.lock();
            state.generation += 1;
            state.generation
        };
        let shared = Arc::clone(&self.state);
        let timer = std::thread::Builder::new()
            .name("freezer".into())
            .spawn(move || {
                std::thread::sleep(SERVER_FREEZE_IDLE);
                let mut state = lock_state(&shared);
                if state.generation == generation && state.frozen.is_none() && jail.freeze().is_ok()
                {
                    state.frozen = Some(jail);
                }
            });
        // Without a thread the process simply stays unfrozen.
        drop(timer);
    }

    /// Freezes `jail` at once (a pending timer is cancelled).
    pub(crate) fn freeze_now(&self, jail: Freezable) {
        let mut state = self.lock();
        state.generation += 1;
        if state.frozen.is_none() && jail.freeze().is_ok() {
            state.frozen = Some(jail);
        }
    }

    /// Cancels a pending freeze and thaws a frozen jail; says whether one
    /// was frozen.
    pub(crate) fn thaw(&self) -> bool {
        let mut state = self.lock();
        state.generation += 1;
        match state.frozen.take() {
            Some(jail) => {
                let _ = jail.thaw();
                true
            }
            None => false,
        }
    }
}

fn lock_state(state: &std::sync::Mutex<FreezeState>) -> std::sync::MutexGuard<'_, FreezeState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
