//! The outbound adapter of the self check-in (issue 17): how a check-in link reaches the
//! survivor over her safe channel (an SMS gateway, a messenger). No real gateway is reachable
//! from a Dayaq installation by default, so the built-in implementation only logs that a
//! message would be sent — the check-in id and the channel, never the number, the link or
//! the code. An operator plugs a real gateway in by implementing [`CheckInSender`] and setting
//! [`crate::AppConfig::checkin_sender`].

use std::sync::Arc;
use uuid::Uuid;

/// One message to send. `Debug` is hand-written so that the recipient and the text can never
/// reach a log through `{:?}`.
pub struct Outbound {
    pub checkin_id: Uuid,
    /// "sms" or "messenger".
    pub channel: &'static str,
    /// Her safe number (from the contact protocol).
    pub to: String,
    /// The neutral message with the link and the code.
    pub text: String,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("checkin_id", &self.checkin_id)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// Why a message was not sent (no personal data).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the gateway refused the message")]
    Refused,
    #[error("the gateway is unreachable")]
    Unreachable,
}

/// Sends a check-in message. Implementations must not log the recipient, the link or the code.
pub trait CheckInSender: Send + Sync {
    fn send(&self, message: &Outbound) -> Result<(), SendError>;
}

/// The default: logs the check-in id and channel only.
#[derive(Debug, Default)]
pub struct LoggingSender;

impl CheckInSender for LoggingSender {
    fn send(&self, message: &Outbound) -> Result<(), SendError> {
        tracing::info!(checkin = %message.checkin_id, channel = message.channel, "check-in message handed to the logging sender");
        Ok(())
    }
}

pub fn logging_sender() -> Arc<dyn CheckInSender> {
    Arc::new(LoggingSender)
}
