//! Addresses outside the cluster: `ipBlock`s as sets of IPv4 and IPv6 ranges (`cidr` minus
//! `except`), and the partition of the address space into the ranges a set of blocks cannot
//! tell apart, which become the external peers of the analysis.

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    fn max(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpRange {
    /// The family.
    pub family: Family,
    /// First address.
    pub start: u128,
    /// Last address.
    pub end: u128,
}

impl IpRange {
    /// Every address of `family`.
    pub fn universe(family: Family) -> IpRange {
        IpRange { family, start: 0, end: family.max() }
    }

    /// Whether `other` lies within this range.
    pub fn covers(&self, other: &IpRange) -> bool {
        self.family == other.family && self.start <= other.start && other.end <= self.end
    }

    fn addr(family: Family, value: u128) -> IpAddr {
        match family {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(value as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(value)),
        }
    }
}

impl fmt::Display for IpRange {
    /// `first-last`, as np-guard prints ranges (also for a single address).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", IpRange::addr(self.family, self.start), IpRange::addr(self.family, self.end))
    }
}

/// A set of addresses: sorted, disjoint, non-adjacent ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IpSet(Vec<IpRange>);

impl IpSet {
    /// The addresses of one CIDR (host bits are ignored, as the network address is used).
    pub fn cidr(text: &str) -> Result<IpSet, String> {
        let net: IpNet = text.trim().parse().map_err(|_| format!("invalid CIDR {text:?}"))?;
        let (family, start, end) = match net {
            IpNet::V4(n) => (Family::V4, u128::from(u32::from(n.network())), u128::from(u32::from(n.broadcast()))),
            IpNet::V6(n) => (Family::V6, u128::from(n.network()), u128::from(n.broadcast())),
        };
        Ok(IpSet(vec![IpRange { family, start, end }]))
    }

    /// An `ipBlock`: `cidr` minus every `except` entry.
    pub fn block(cidr: &str, except: &[String]) -> Result<IpSet, String> {
        let mut set = IpSet::cidr(cidr)?;
        for e in except {
            set = set.difference(&IpSet::cidr(e)?);
        }
        Ok(set)
    }

    /// The whole address space of the given families.
    pub fn universe(families: &[Family]) -> IpSet {
        IpSet(families.iter().map(|f| IpRange::universe(*f)).collect())
    }

    /// The ranges, in order.
    pub fn ranges(&self) -> &[IpRange] {
        &self.0
    }

    /// Whether the set holds no address.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the set holds addresses of `family`.
    pub fn has_family(&self, family: Family) -> bool {
        self.0.iter().any(|r| r.family == family)
    }

    /// Whether the first address of `range` is in the set (for ranges of a partition built
    /// from this set, the whole range is then in it).
    pub fn contains_start(&self, range: &IpRange) -> bool {
        self.0.iter().any(|r| r.family == range.family && r.start <= range.start && range.start <= r.end)
    }

    /// Whether every address of `range` is in the set.
    pub fn covers(&self, range: &IpRange) -> bool {
        self.0.iter().any(|r| r.covers(range))
    }

    /// The addresses of `self` not in `other`.
    pub fn difference(&self, other: &IpSet) -> IpSet {
        let mut out = Vec::new();
        for r in &self.0 {
            let mut pieces = vec![*r];
            for o in other.0.iter().filter(|o| o.family == r.family) {
                let mut next = Vec::new();
                for p in pieces {
                    if o.end < p.start || o.start > p.end {
                        next.push(p);
                        continue;
                    }
                    if o.start > p.start {
                        next.push(IpRange { end: o.start - 1, ..p });
                    }
                    if o.end < p.end {
                        next.push(IpRange { start: o.end + 1, ..p });
                    }
                }
                pieces = next;
            }
            out.extend(pieces);
        }
        IpSet::normalized(out)
    }

    /// The union of both sets.
    pub fn union(&self, other: &IpSet) -> IpSet {
        IpSet::normalized(self.0.iter().chain(&other.0).copied().collect())
    }

    fn normalized(mut ranges: Vec<IpRange>) -> IpSet {
        ranges.sort();
        let mut out: Vec<IpRange> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match out.last_mut() {
                Some(last) if last.family == r.family && r.start <= last.end.saturating_add(1) => {
                    last.end = last.end.max(r.end)
                }
                _ => out.push(r),
            }
        }
        IpSet(out)
    }
}

impl fmt::Display for IpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(IpRange::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// Splits `universe` into the maximal ranges inside which every block of `blocks` either holds
/// every address or none: the external peers np-guard reports (one line per range).
pub fn partition(universe: &IpSet, blocks: &[IpSet]) -> Vec<IpRange> {
    let mut out = Vec::new();
    for u in universe.ranges() {
        // Every place where some block starts or stops holding addresses, inside `u`.
        let mut cuts: Vec<u128> = vec![u.start];
        for b in blocks {
            for r in b.ranges().iter().filter(|r| r.family == u.family) {
                if r.start > u.start && r.start <= u.end {
                    cuts.push(r.start);
                }
                if r.end < u.end && r.end >= u.start {
                    cuts.push(r.end + 1);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut previous: Option<(IpRange, Vec<bool>)> = None;
        for (i, &start) in cuts.iter().enumerate() {
            let end = cuts.get(i + 1).map_or(u.end, |next| next - 1);
            let range = IpRange { family: u.family, start, end };
            let signature: Vec<bool> = blocks.iter().map(|b| b.contains_start(&range)).collect();
            match &mut previous {
                Some((prev, sig)) if *sig == signature => prev.end = end,
                _ => {
                    if let Some((prev, _)) = previous.take() {
                        out.push(prev);
                    }
                    previous = Some((range, signature));
                }
            }
        }
        if let Some((prev, _)) = previous {
            out.push(prev);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(ranges: &[IpRange]) -> Vec<String> {
        ranges.iter().map(IpRange::to_string).collect()
    }

    #[test]
    fn block_with_except() {
        let b =
            IpSet::block("0.0.0.0/0", &["10.0.0.0/8".into(), "172.16.0.0/12".into(), "192.168.0.0/16".into()]).unwrap();
        assert_eq!(
            b.to_string(),
            "0.0.0.0-9.255.255.255,11.0.0.0-172.15.255.255,172.32.0.0-192.167.255.255,192.169.0.0-255.255.255.255"
        );
        assert!(IpSet::cidr("10.0.0.0/33").is_err());
        assert!(IpSet::cidr("nonsense").is_err());
        let v6 = IpSet::block("2001:db8::/32", &["2001:db8::/48".into()]).unwrap();
        assert_eq!(v6.to_string(), "2001:db8:1::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
    }

    #[test]
    fn partition_matches_np_guard_ranges() {
        let except = ["10.0.0.0/8".into(), "172.21.0.0/16".into(), "172.30.0.0/16".into()];
        let block = IpSet::block("0.0.0.0/0", &except).unwrap();
        let parts = partition(&IpSet::universe(&[Family::V4]), &[block]);
        assert_eq!(
            strings(&parts),
            [
                "0.0.0.0-9.255.255.255",
                "10.0.0.0-10.255.255.255",
                "11.0.0.0-172.20.255.255",
                "172.21.0.0-172.21.255.255",
                "172.22.0.0-172.29.255.255",
                "172.30.0.0-172.30.255.255",
                "172.31.0.0-255.255.255.255"
            ]
        );
        // No block: the whole space is one peer. A redundant except does not split anything.
        assert_eq!(strings(&partition(&IpSet::universe(&[Family::V4]), &[])), ["0.0.0.0-255.255.255.255"]);
        let b = IpSet::block("10.0.0.0/8", &["10.1.0.0/16".into(), "10.1.2.0/24".into()]).unwrap();
        assert_eq!(partition(&IpSet::universe(&[Family::V4]), &[b]).len(), 5);
        let v6 = partition(&IpSet::universe(&[Family::V4, Family::V6]), &[IpSet::cidr("fc00::/7").unwrap()]);
        assert_eq!(
            strings(&v6)[1..],
            [
                "::-fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "fe00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
            ]
        );
    }
}
