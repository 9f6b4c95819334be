//! Address types with hand-written JSON schemas (schemars has no `ipnet` support).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! prefix_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $schema_name:literal, $desc:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $inner);

        impl $name {
            /// The prefix with host bits cleared, as written in address plans.
            pub fn net(&self) -> $inner {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let net: $inner = s
                    .parse()
                    .map_err(|_| format!("`{s}` is not a valid {}", $desc))?;
                if net.trunc() != net {
                    return Err(format!(
                        "`{s}` has host bits set; did you mean `{}`?",
                        net.trunc()
                    ));
                }
                Ok($name(net))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($schema_name)
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "description": $desc,
                    "examples": [$example]
                })
            }
        }
    };
}

prefix_type!(
    /// An IPv6 prefix in CIDR notation, host bits clear (`2001:db8:100::/40`).
    Ipv6Prefix, Ipv6Net, "Ipv6Prefix", "IPv6 prefix in CIDR notation", "2001:db8:100::/40"
);
prefix_type!(
    /// An IPv4 prefix in CIDR notation, host bits clear (`10.10.0.0/16`).
    Ipv4Prefix, Ipv4Net, "Ipv4Prefix", "IPv4 prefix in CIDR notation", "10.10.0.0/16"
);

/// An IPv6 or IPv4 prefix, host bits clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpPrefix(pub IpNet);

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for IpPrefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let net: IpNet = s
            .parse()
            .map_err(|_| format!("`{s}` is not a valid IP prefix in CIDR notation"))?;
        if net.trunc() != net {
            return Err(format!(
                "`{s}` has host bits set; did you mean `{}`?",
                net.trunc()
            ));
        }
        Ok(IpPrefix(net))
    }
}

impl Serialize for IpPrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IpPrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for IpPrefix {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("IpPrefix")
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "IPv6 or IPv4 prefix in CIDR notation",
            "examples": ["2001:db8:ff00::/48", "10.20.0.0/24"]
        })
    }
}

/// An address on an interface with its prefix length (`2001:db8:1:1::1/64`); host bits allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterfaceAddress(pub IpNet);

impl fmt::Display for InterfaceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for InterfaceAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for InterfaceAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(InterfaceAddress).map_err(|_| {
            serde::de::Error::custom(format!(
                "`{s}` is not an interface address with a prefix length (`2001:db8:1::1/64`)"
            ))
        })
    }
}

impl JsonSchema for InterfaceAddress {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("InterfaceAddress")
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "interface address with prefix length",
            "examples": ["2001:db8:1:1::1/64", "10.20.0.1/24"]
        })
    }
}

/// A single IPv6 or IPv4 address (a management address, a collector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpAddress(pub std::net::IpAddr);

impl fmt::Display for IpAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for IpAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IpAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map(IpAddress)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a valid IP address")))
    }
}

impl JsonSchema for IpAddress {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("IpAddress")
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "IPv6 or IPv4 address",
            "examples": ["2001:db8:ffff::10", "192.0.2.10"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_reject_host_bits_with_a_suggestion() {
        let err = "2001:db8::1/48".parse::<Ipv6Prefix>().unwrap_err();
        assert!(err.contains("did you mean `2001:db8::/48`"), "{err}");
        assert!("10.0.0.0/8".parse::<Ipv6Prefix>().is_err());
        assert_eq!(
            "2001:db8::/32".parse::<IpPrefix>().unwrap().to_string(),
            "2001:db8::/32"
        );
    }
}
