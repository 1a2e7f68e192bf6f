//! The wasm face of [`Workload`] for the bench page.

use wasm_bindgen::prelude::*;

use crate::{Op, Workload};

/// The fixture, owned by the page.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Bench(Workload);

#[wasm_bindgen]
impl Bench {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Bench {
        Bench(Workload::new())
    }

    /// Every operation's name.
    pub fn ops() -> Vec<String> {
        Op::ALL.iter().map(|op| op.name().to_string()).collect()
    }

    /// Runs operation `name` `iterations` times (the page times the call).
    pub fn run(&mut self, name: &str, iterations: u32) -> Result<(), JsError> {
        let op = Op::from_name(name).ok_or_else(|| JsError::new("unknown operation"))?;
        for _ in 0..iterations {
            self.0.run(op);
        }
        Ok(())
    }

    pub fn fixture_json(&self) -> String {
        self.0.fixture_json()
    }

    pub fn check_onion(&self, body: &[u8]) -> bool {
        self.0.check_onion(body)
    }

    pub fn check_message(&self, sealed: &[u8]) -> bool {
        self.0.check_message(sealed)
    }

    pub fn check_secretstream(&self, stream: &[u8]) -> bool {
        self.0.check_secretstream(stream)
    }

    pub fn attachment_stream_1m(&self) -> Vec<u8> {
        self.0.attachment_stream_1m()
    }

    pub fn check_aead_1k(&self, sealed: &[u8]) -> bool {
        self.0.check_aead_1k(sealed)
    }

    /// `[v1, v2]` bytes on the wire for the same Content.
    pub fn message_sizes(&self) -> Vec<u32> {
        let (v1, v2) = self.0.message_sizes();
        vec![v1 as u32, v2 as u32]
    }
}

impl Default for Bench {
    fn default() -> Self {
        Self::new()
    }
}
