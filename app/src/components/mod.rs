//! Small reusable components: props in, callbacks out, no protocol logic.
pub mod phrase;
pub mod qr;
pub mod session_id;
