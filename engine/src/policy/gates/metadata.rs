//! Gate `metadata` (alias `image_metadata`): checks on image attributes (size, architecture,
//! OS, distro, distro version, like-distro, layer count).
//!
//! Reads `Inventory.layers`, `Inventory.config.platform` and `Inventory.distro`. As in Anchore,
//! `size` and `layer_count` compare as integers and every other attribute as a string (so `>`
//! is lexicographic there).

use super::{
    Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec, compare, re_match_start,
    split_list,
};

/// The `metadata` gate.
pub(crate) struct Metadata;

/// Attributes an image has.
pub(crate) const ATTRIBUTES: &[&str] = &[
    "size",
    "architecture",
    "os_type",
    "distro",
    "distro_version",
    "like_distro",
    "layer_count",
];

static PARAMS: &[ParamSpec] = &[
    ParamSpec::new("attribute", ParamKind::Enum(ATTRIBUTES), true).doc("image attribute"),
    ParamSpec::new(
        "check",
        ParamKind::Enum(&[
            "=",
            "!=",
            ">",
            "<",
            ">=",
            "<=",
            "exists",
            "not_exists",
            "like",
            "not_like",
            "in",
            "not_in",
        ]),
        true,
    )
    .doc("comparison"),
    ParamSpec::new("value", ParamKind::MetadataValue, false)
        .doc("value to compare with (size accepts kb/mb/gb/tb)"),
];

static TRIGGERS: &[TriggerSpec] = &[TriggerSpec {
    name: "attribute",
    aliases: &[],
    description: "Fires once if the image attribute satisfies the check.",
    params: PARAMS,
    eval: attribute,
}];

/// Parses `10`, `10kb`, `3gb` (powers of 1024).
pub(crate) fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, mult) = match v
        .len()
        .checked_sub(2)
        .and_then(|i| v.get(i..).map(|s| (i, s)))
    {
        Some((i, "kb")) => (&v[..i], 1u64 << 10),
        Some((i, "mb")) => (&v[..i], 1 << 20),
        Some((i, "gb")) => (&v[..i], 1 << 30),
        Some((i, "tb")) => (&v[..i], 1 << 40),
        _ => (v, 1),
    };
    num.parse::<u64>().ok().and_then(|n| n.checked_mul(mult))
}

enum Value {
    Int(u64),
    Str(String),
}

fn image_value(input: &GateInput<'_>, attr: &str) -> Option<Value> {
    let inv = input.inventory;
    Some(match attr {
        "size" => Value::Int(
            inv.layers
                .iter()
                .map(|l| {
                    if l.uncompressed_size > 0 {
                        l.uncompressed_size
                    } else {
                        l.size
                    }
                })
                .sum(),
        ),
        "layer_count" => Value::Int(inv.layers.len() as u64),
        "architecture" => Value::Str(inv.config.platform.architecture.clone()),
        "os_type" => Value::Str(inv.config.platform.os.clone()),
        "distro" => Value::Str(inv.distro.as_ref()?.id.clone()),
        "distro_version" => Value::Str(inv.distro.as_ref()?.version_id.clone()),
        "like_distro" => Value::Str(inv.distro.as_ref()?.id_like.join(",")),
        _ => return None,
    })
}

fn attribute(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let (Some(attr), Some(check)) = (p.get("attribute"), p.get("check")) else {
        return;
    };
    let value = p.get("value").unwrap_or("");
    let image = image_value(input, attr);
    let shown = match &image {
        Some(Value::Int(n)) => n.to_string(),
        Some(Value::Str(s)) => s.clone(),
        None => "None".to_string(),
    };
    let truthy = match &image {
        Some(Value::Int(n)) => *n != 0,
        Some(Value::Str(s)) => !s.is_empty(),
        None => false,
    };
    let fired = match check {
        "exists" => truthy,
        "not_exists" => !truthy,
        _ if value.is_empty() => false,
        "like" | "not_like" => {
            let m = re_match_start(value).is_some_and(|re| re.is_match(&shown));
            image.is_some() && ((check == "like") == m)
        }
        "in" | "not_in" => {
            let found = split_list(value).contains(&shown);
            image.is_some() && ((check == "in") == found)
        }
        op => match &image {
            Some(Value::Int(n)) => {
                let wanted = if attr == "size" {
                    parse_size(value)
                } else {
                    value.trim().parse().ok()
                };
                wanted.is_some_and(|w| compare(op, *n, w))
            }
            Some(Value::Str(s)) => compare(op, s.as_str(), value),
            None => false,
        },
    };
    if fired {
        out.push(Fired::msg(format!(
            "Attribute check for attribute: '{attr}' check: '{check}' check_value: '{value}' matched image value: '{shown}'"
        )));
    }
}

impl Gate for Metadata {
    fn name(&self) -> &'static str {
        "metadata"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["image_metadata"]
    }
    fn description(&self) -> &'static str {
        "Checks on image metadata: size, architecture, OS, distro, layer count."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10"), Some(10));
        assert_eq!(parse_size("2kb"), Some(2048));
        assert_eq!(parse_size("1gb"), Some(1 << 30));
        assert_eq!(parse_size("1GB"), None);
        assert_eq!(parse_size("kb"), None);
    }
}
