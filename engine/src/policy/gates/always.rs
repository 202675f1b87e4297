//! Gate `always`: fires unconditionally (used to force an action for mapped images).
//!
//! Reads no data. The trigger id is the literal `always`.

use super::{Fired, Gate, GateInput, RuleParams, TriggerSpec};

/// The `always` gate.
pub(crate) struct Always;

static TRIGGERS: &[TriggerSpec] = &[TriggerSpec {
    name: "always",
    aliases: &[],
    description: "Fires once, unconditionally.",
    params: &[],
    eval: always,
}];

fn always(_: &GateInput<'_>, _: &RuleParams<'_>, out: &mut Vec<Fired>) {
    out.push(Fired::with_id("always", "Unconditional trigger match"));
}

impl Gate for Always {
    fn name(&self) -> &'static str {
        "always"
    }
    fn description(&self) -> &'static str {
        "Triggers that fire unconditionally."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
