//! Access to the generated numbering-plan tables (`tables.rs`).
//!
//! The digit automata are stored range-coded (see `tools/phone-gen/generate.mjs`) and decoded
//! into fixed-size static arrays, plan by plan in their order, as far as a number first needs:
//! no heap allocation, ever. Every lookup here is bounds-checked with `get`; corrupt data can
//! only make numbers invalid, not panic.

use std::sync::atomic::{
    AtomicBool, AtomicU16, AtomicU32, AtomicUsize, Ordering::Acquire, Ordering::Relaxed,
    Ordering::Release,
};
use std::sync::{Mutex, PoisonError};

use super::tables as t;

/// Index of a numbering plan (a region, or a non-geographic calling code such as +800).
pub(super) type Plan = u8;

// ----------------------------------------------------------------------------------------
// Plans and calling codes

pub(super) fn plan_cc(plan: Plan) -> u16 {
    t::PLAN_CC.get(usize::from(plan)).copied().unwrap_or(0)
}

/// Region code of a plan ("IN"), `None` for non-geographic plans.
pub(super) fn plan_region(plan: Plan) -> Option<&'static str> {
    let i = usize::from(plan) * 2;
    let name = t::PLAN_NAMES.get(i..i + 2)?;
    if name.first() == Some(&0) {
        return None;
    }
    std::str::from_utf8(name).ok()
}

pub(super) fn plan_lengths(plan: Plan) -> u32 {
    t::PLAN_LENGTHS.get(usize::from(plan)).copied().unwrap_or(0)
}

/// Last region looked up: name << 8 | plan (0: none). Callers use one default region.
static LAST_REGION: AtomicU32 = AtomicU32::new(0);

/// The plan of a region code, case-insensitively.
pub(super) fn plan_by_region(region: &str) -> Option<Plan> {
    let (&a, &c) = match region.as_bytes() {
        [a, c] if a.is_ascii_alphabetic() && c.is_ascii_alphabetic() => (a, c),
        _ => return None,
    };
    let key = u16::from_be_bytes([a.to_ascii_uppercase(), c.to_ascii_uppercase()]);
    let last = LAST_REGION.load(Relaxed);
    if last != 0 && (last >> 8) as u16 == key {
        return Some(last as u8);
    }
    let found = t::PLAN_NAMES
        .chunks_exact(2)
        .position(|n| n == key.to_be_bytes())?;
    let plan = Plan::try_from(found).ok()?;
    LAST_REGION.store(u32::from(key) << 8 | u32::from(plan), Relaxed);
    Some(plan)
}

/// The plans of a calling code, main region first.
#[derive(Clone, Copy, Debug)]
pub(super) struct CallingCode {
    pub first: Plan,
    pub count: u8,
    pub non_geographic: bool,
}

/// Highest calling code (three digits).
const MAX_CC: usize = 999;

/// The plans of every calling code, `first << 8 | count` (0: not a calling code), filled on
/// first use: a lookup is one load.
static CC_PLANS: [AtomicU16; MAX_CC + 1] = [const { AtomicU16::new(0) }; MAX_CC + 1];

fn index_calling_codes() {
    // Plans are ordered by calling code: one run of plans per code. Only stores of final
    // values, so that threads decoding at the same time write the same.
    let mut first = 0usize;
    while let Some(&cc) = t::PLAN_CC.get(first) {
        let count = t::PLAN_CC
            .get(first..)
            .map_or(1, |rest| rest.iter().take_while(|&&c| c == cc).count());
        if let (Some(slot), Ok(plan), Ok(n)) = (
            CC_PLANS.get(usize::from(cc)),
            u16::try_from(first),
            u16::try_from(count),
        ) {
            slot.store(plan << 8 | n, Relaxed);
        }
        first += count;
    }
}

/// How a plan's national prefix for parsing is used.
#[derive(Clone, Copy, Debug)]
pub(super) struct PrefixRule {
    /// Capturing groups in the pattern (libphonenumber looks at the last one).
    pub group_count: u8,
    /// Transform rule: the group it copies (0: no transform rule) after `literal_len` literal
    /// digits (`literal`, hex nibbles, most significant first).
    pub group: u8,
    pub literal: u16,
    pub literal_len: u8,
}

fn block(table: &[u8], plan: Plan) -> (u16, u16, u32) {
    let b = table.get(usize::from(plan)).copied().unwrap_or(0);
    t::BLOCKS.get(usize::from(b)).copied().unwrap_or((0, 0, 0))
}

pub(super) fn prefix_rule(plan: Plan) -> PrefixRule {
    let (_, _, r) = block(&t::PLAN_NPP, plan);
    PrefixRule {
        group_count: (r >> 24 & 3) as u8,
        group: (r >> 20 & 3) as u8,
        literal: (r & 0xffff) as u16,
        literal_len: (r >> 16 & 0xf) as u8,
    }
}

fn has_leading(plan: Plan) -> bool {
    t::PLAN_HAS_LEADING
        .get(usize::from(plan))
        .copied()
        .unwrap_or(0)
        != 0
}

// ----------------------------------------------------------------------------------------
// Prefix patterns (national prefix for parsing, international prefix)

/// The result of matching a prefix pattern at the start of a digit string.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PrefixMatch {
    /// Length of the whole match.
    pub len: u8,
    /// Spans of capturing groups 1 and 2, when they took part in the match.
    pub groups: [Option<(u8, u8)>; 2],
}

/// Match the first path (in JavaScript regex priority order) of a prefix pattern against the
/// start of `digits`; `None` when no path matches.
fn match_paths((start, end, _): (u16, u16, u32), digits: &[u8]) -> Option<PrefixMatch> {
    let paths = t::PATH_BYTES.get(usize::from(start)..usize::from(end))?;
    let mut i = 0usize;
    while let Some(&head) = paths.get(i) {
        i += 1;
        let n = usize::from(head & 31);
        let anchored = head & 32 != 0;
        let mut groups = [None, None];
        for (slot, bit) in groups.iter_mut().zip([64u8, 128]) {
            if head & bit != 0 {
                *slot = Some((
                    paths.get(i).copied().unwrap_or(0),
                    paths.get(i + 1).copied().unwrap_or(0),
                ));
                i += 2;
            }
        }
        let classes = paths.get(i..i + n)?;
        i += n;
        if digits.len() < n || (anchored && digits.len() != n) {
            continue;
        }
        let ok = classes.iter().zip(digits).all(|(&c, &d)| {
            t::DIGIT_CLASSES
                .get(usize::from(c))
                .is_some_and(|&mask| mask >> d & 1 == 1)
        });
        if ok {
            return Some(PrefixMatch {
                len: n as u8,
                groups,
            });
        }
    }
    None
}

/// National prefix (and carrier code) for parsing.
pub(super) fn national_prefix(plan: Plan, digits: &[u8]) -> Option<PrefixMatch> {
    match_paths(block(&t::PLAN_NPP, plan), digits)
}

/// International (IDD) prefix: the length of the match.
pub(super) fn idd_prefix(plan: Plan, digits: &[u8]) -> Option<usize> {
    match_paths(block(&t::PLAN_IDD, plan), digits).map(|m| usize::from(m.len))
}

// ----------------------------------------------------------------------------------------
// Automata

static NEXT: [AtomicU16; t::N_STATES * 10] = [const { AtomicU16::new(0) }; t::N_STATES * 10];
static ACCEPT: [AtomicBool; t::N_STATES] = [const { AtomicBool::new(false) }; t::N_STATES];
static ROOTS: [AtomicU16; t::N_PLANS * 3] = [const { AtomicU16::new(0) }; t::N_PLANS * 3];
/// Plans whose automata are decoded: plans are decoded in order, as far as a number first
/// needs (India's plan is coded first: a first Indian number decodes one plan of 254).
static DECODED: AtomicUsize = AtomicUsize::new(0);
/// The decoder between two plans (its adaptive probabilities and the states made so far are
/// what the next plans are coded against).
static DECODER: Mutex<Option<Decoder>> = Mutex::new(None);
static INDEXED: AtomicBool = AtomicBool::new(false);
/// Universal states (any digits, then accept at some remaining lengths) have the highest ids,
/// from here up; their remaining-length masks, by `N_STATES - 1 - id`.
static UNIV_FLOOR: AtomicU16 = AtomicU16::new(t::N_STATES as u16);
static UNIV_REMAINING: [AtomicU32; t::UNIV_CAP] = [const { AtomicU32::new(0) }; t::UNIV_CAP];

/// The automata, decoded plan by plan as their roots are first asked for.
#[derive(Clone, Copy)]
pub(super) struct Automata(());

pub(super) fn automata() -> Automata {
    if !INDEXED.load(Acquire) {
        // Threads that get here at the same time all index, storing the same values.
        index_calling_codes();
        INDEXED.store(true, Release);
    }
    Automata(())
}

/// Decodes the plans up to `plan` that are not decoded yet. One thread decodes at a time; the
/// others wait for it, then see its states through `DECODED`.
#[cold]
#[inline(never)]
fn decode_through(plan: usize) {
    let mut decoder = DECODER.lock().unwrap_or_else(PoisonError::into_inner);
    let decoder = decoder.get_or_insert_with(Decoder::new);
    while decoder.plan <= plan && decoder.plan < t::N_PLANS {
        decoder.decode_plan();
        DECODED.store(decoder.plan, Release);
    }
}

const VALID: usize = 0;
const GENERAL: usize = 1;
const LEADING: usize = 2;

impl Automata {
    fn root(self, plan: Plan, which: usize) -> u16 {
        let plan = usize::from(plan);
        if plan >= DECODED.load(Acquire) {
            decode_through(plan);
        }
        ROOTS.get(plan * 3 + which).map_or(0, |a| a.load(Relaxed))
    }

    fn step(self, state: u16, digit: u8) -> u16 {
        NEXT.get(usize::from(state) * 10 + usize::from(digit))
            .map_or(0, |a| a.load(Relaxed))
    }

    fn accepts(self, state: u16) -> bool {
        state != 0
            && ACCEPT
                .get(usize::from(state))
                .is_some_and(|a| a.load(Relaxed))
    }

    fn full_match(self, mut state: u16, digits: &[u8]) -> bool {
        let floor = UNIV_FLOOR.load(Relaxed);
        for (i, &d) in digits.iter().enumerate() {
            if state >= floor {
                // A universal state: the rest matches by its length alone.
                let remaining = UNIV_REMAINING
                    .get(usize::from(t::N_STATES as u16 - 1 - state))
                    .map_or(0, |a| a.load(Relaxed));
                return remaining
                    .checked_shr((digits.len() - i) as u32)
                    .is_some_and(|r| r & 1 == 1);
            }
            state = self.step(state, d);
            if state == 0 {
                return false;
            }
        }
        self.accepts(state)
    }

    /// The plans of a calling code, main region first; `None` when `cc` is not one.
    pub(super) fn calling_code(self, cc: u16) -> Option<CallingCode> {
        let v = CC_PLANS.get(usize::from(cc))?.load(Relaxed);
        if v == 0 {
            return None;
        }
        let first = Plan::try_from(v >> 8).ok()?;
        Some(CallingCode {
            first,
            count: (v & 0xff) as u8,
            non_geographic: plan_region(first).is_none(),
        })
    }

    /// Whether `digits` is a valid national number of the plan (any number type).
    pub(super) fn valid(self, plan: Plan, digits: &[u8]) -> bool {
        self.full_match(self.root(plan, VALID), digits)
    }

    /// Whether `digits` matches the plan's general national number pattern.
    pub(super) fn general(self, plan: Plan, digits: &[u8]) -> bool {
        self.full_match(self.root(plan, GENERAL), digits)
    }

    /// Whether the plan has leading-digits data and `digits` starts with one of them.
    fn leading(self, plan: Plan, digits: &[u8]) -> Option<bool> {
        if !has_leading(plan) {
            return None;
        }
        let mut state = self.root(plan, LEADING);
        for &d in digits {
            if self.accepts(state) {
                return Some(true);
            }
            state = self.step(state, d);
            if state == 0 {
                return Some(false);
            }
        }
        Some(self.accepts(state))
    }

    /// libphonenumber's `getCountryByCallingCode`: the region of a calling code that a national
    /// number belongs to (regions with leading digits by those, others by validity).
    pub(super) fn region_of(self, cc: CallingCode, digits: &[u8]) -> Option<Plan> {
        if cc.non_geographic {
            return None;
        }
        if cc.count == 1 {
            return Some(cc.first);
        }
        for k in 0..cc.count {
            let plan = cc.first.checked_add(k)?;
            match self.leading(plan, digits) {
                Some(true) => return Some(plan),
                Some(false) => {}
                None => {
                    if self.valid(plan, digits) {
                        return Some(plan);
                    }
                }
            }
        }
        None
    }
}

// ----------------------------------------------------------------------------------------
// Decoder (mirrors `decodeAutomata` in tools/phone-gen/generate.mjs)

const PROB_BITS: u32 = 11;
const MOVE_BITS: u32 = 4;

struct RangeDecoder {
    pos: usize,
    range: u32,
    code: u32,
}

impl RangeDecoder {
    fn new() -> Self {
        let mut rc = RangeDecoder {
            pos: 0,
            range: u32::MAX,
            code: 0,
        };
        for _ in 0..5 {
            rc.code = (rc.code << 8) | u32::from(rc.next_byte());
        }
        rc
    }

    fn next_byte(&mut self) -> u8 {
        let b = t::AUTOMATA.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }

    // Not inlined: the decoder runs once, so its code is kept small rather than fast (the
    // crate is compiled at opt-level 3, which would copy this into every caller).
    #[inline(never)]
    fn bit(&mut self, probs: &mut [u16], i: usize) -> bool {
        let Some(p) = probs.get_mut(i) else {
            return false;
        };
        let bound = (self.range >> PROB_BITS).saturating_mul(u32::from(*p));
        let b = if self.code < bound {
            self.range = bound;
            *p = p.saturating_add(((1u16 << PROB_BITS).saturating_sub(*p)) >> MOVE_BITS);
            false
        } else {
            self.code = self.code.saturating_sub(bound);
            self.range = self.range.saturating_sub(bound);
            *p = p.saturating_sub(*p >> MOVE_BITS);
            true
        };
        while self.range < (1 << 24) {
            self.range <<= 8;
            self.code = (self.code << 8) | u32::from(self.next_byte());
        }
        b
    }
}

const K_DEAD: usize = 0;
const K_UNIV: usize = 1;
const K_BACK: usize = 2;
const K_FRESH: usize = 3;
const K_START: usize = 4;
const K_ROOT: usize = 5;
const MAX_DEPTH: usize = 20;
const LSETS_CAP: usize = 64;

struct Decoder {
    rc: RangeDecoder,
    probs: [u16; t::CTX_TOTAL],
    /// The next id of a state; universal states are numbered down from the top.
    states: usize,
    next_universal: usize,
    /// Non-leaf states in creation order (targets of back references).
    nonleaf: [u16; t::NONLEAF_CAP],
    nonleaf_len: usize,
    /// Universal states ("any digits, then accept at these remaining lengths") made so far.
    univ: [(u32, u16); t::UNIV_CAP],
    univ_len: usize,
    /// Absolute length sets of the current plan, most recently used first.
    lsets: [u32; LSETS_CAP],
    lsets_len: usize,
    plan_lengths: u32,
    /// The next plan to decode.
    plan: usize,
}

fn set_next(state: u16, digit: usize, target: u16) {
    if let Some(a) = NEXT.get(usize::from(state) * 10 + digit) {
        a.store(target, Relaxed);
    }
}

fn set_accept(state: u16, accept: bool) {
    if let Some(a) = ACCEPT.get(usize::from(state)) {
        a.store(accept, Relaxed);
    }
}

impl Decoder {
    fn new() -> Self {
        Decoder {
            rc: RangeDecoder::new(),
            probs: [1 << (PROB_BITS - 1); t::CTX_TOTAL],
            states: 1, // state 0 is the dead state
            next_universal: t::N_STATES - 1,
            nonleaf: [0; t::NONLEAF_CAP],
            nonleaf_len: 0,
            univ: [(0, 0); t::UNIV_CAP],
            univ_len: 0,
            lsets: [0; LSETS_CAP],
            lsets_len: 0,
            plan_lengths: 0,
            plan: 0,
        }
    }

    /// Decodes the roots of the next plan and every state they reach that is new.
    fn decode_plan(&mut self) {
        let plan = self.plan;
        self.lsets_len = 0;
        self.plan_lengths = t::PLAN_LENGTHS.get(plan).copied().unwrap_or(0);
        let roots = if t::PLAN_HAS_LEADING.get(plan).copied().unwrap_or(0) != 0 {
            3
        } else {
            2
        };
        for which in 0..roots {
            let (root, _) = self.target(K_ROOT, 0, false);
            if let Some(a) = ROOTS.get(plan * 3 + which) {
                a.store(root, Relaxed);
            }
        }
        self.plan += 1;
    }

    fn bit(&mut self, i: usize) -> bool {
        self.rc.bit(&mut self.probs, i)
    }

    fn alloc(&mut self) -> u16 {
        if self.states > self.next_universal {
            return 0; // corrupt data: everything past this point decodes as dead
        }
        let id = self.states as u16;
        self.states += 1;
        id
    }

    fn alloc_universal(&mut self, remaining: u32) -> u16 {
        if self.states > self.next_universal {
            return 0;
        }
        let id = self.next_universal as u16;
        if let Some(slot) = UNIV_REMAINING.get(t::N_STATES - 1 - self.next_universal) {
            slot.store(remaining, Relaxed);
        }
        UNIV_FLOOR.store(id, Relaxed);
        self.next_universal -= 1;
        id
    }

    /// How many states were decoded, the dead state included.
    #[cfg(test)]
    fn count(&self) -> usize {
        self.states + (t::N_STATES - 1 - self.next_universal)
    }

    fn unary(&mut self, base: usize, cap: usize) -> usize {
        let mut n = 0;
        while n < 64 && self.bit(base + n.min(cap - 1)) {
            n += 1;
        }
        n
    }

    fn gamma(&mut self) -> usize {
        let e = self.unary(t::CTX_BUNARY, 16);
        let mut x = 1usize;
        for _ in 0..e.min(30) {
            x = (x << 1) | usize::from(self.bit(t::CTX_BMANT + e.min(15)));
        }
        x - 1
    }

    #[inline(never)]
    fn new_length_set(&mut self) -> u32 {
        let mut m = 0u32;
        if self.bit(t::CTX_UNEW) {
            let mut k = 0usize;
            for i in 0..18 {
                if self.plan_lengths >> i & 1 == 1 {
                    m |= u32::from(self.bit(t::CTX_UNEW + 1 + k.min(7))) << i;
                    k += 1;
                }
            }
        } else {
            for i in 0..18 {
                m |= u32::from(self.bit(t::CTX_UNEW + 9 + i)) << i;
            }
        }
        m
    }

    /// A state accepting every digit string whose length is in `remaining` (bit n: length n).
    #[inline(never)]
    fn universal(&mut self, remaining: u32, depth: usize) -> u16 {
        if remaining == 0 || depth > MAX_DEPTH {
            return 0;
        }
        let made = self.univ.get(..self.univ_len).unwrap_or(&[]);
        if let Some(&(_, id)) = made.iter().find(|(r, _)| *r == remaining) {
            return id;
        }
        let child = self.universal(remaining >> 1, depth + 1);
        let id = self.alloc_universal(remaining);
        set_accept(id, remaining & 1 == 1);
        for d in 0..10 {
            set_next(id, d, child);
        }
        if let Some(slot) = self.univ.get_mut(self.univ_len) {
            *slot = (remaining, id);
            self.univ_len += 1;
        }
        id
    }

    fn kind(&mut self, prev: usize, child_depth: usize, leaf: bool) -> usize {
        let base = t::CTX_KIND + (prev * 4 + child_depth.min(3)) * 3;
        if leaf || self.bit(base) {
            if self.bit(base + 1) {
                K_UNIV
            } else {
                K_DEAD
            }
        } else if self.bit(base + 2) {
            K_FRESH
        } else {
            K_BACK
        }
    }

    /// A target: dead, universal, a back reference or a new state. In a leaf state (`leaf`)
    /// only dead or universal.
    fn target(&mut self, prev: usize, child_depth: usize, leaf: bool) -> (u16, usize) {
        let kind = self.kind(prev, child_depth, leaf);
        match kind {
            K_UNIV => {
                let ctx = t::CTX_UIDX + if prev == K_UNIV { 16 } else { 0 };
                let mut i = self.unary(ctx, 16);
                if i >= self.lsets_len {
                    let set = self.new_length_set();
                    if let Some(slot) = self.lsets.get_mut(self.lsets_len) {
                        *slot = set;
                        self.lsets_len += 1;
                    }
                    i = self.lsets_len.saturating_sub(1);
                }
                let abs = self.lsets.get(i).copied().unwrap_or(0);
                // move to front
                if let Some(head) = self.lsets.get_mut(..=i) {
                    head.rotate_right(1);
                }
                let remaining = abs.checked_shr(child_depth as u32).unwrap_or(0);
                (self.universal(remaining, child_depth), kind)
            }
            K_BACK => {
                let r = self.gamma();
                let i = self.nonleaf_len.checked_sub(r + 1);
                (
                    i.and_then(|i| self.nonleaf.get(i).copied()).unwrap_or(0),
                    kind,
                )
            }
            K_FRESH => {
                let (id, leaf) = self.state(child_depth);
                if !leaf {
                    if let Some(slot) = self.nonleaf.get_mut(self.nonleaf_len) {
                        *slot = id;
                        self.nonleaf_len += 1;
                    }
                }
                (id, kind)
            }
            _ => (0, K_DEAD),
        }
    }

    #[inline(never)]
    fn state(&mut self, depth: usize) -> (u16, bool) {
        let id = self.alloc();
        if depth > MAX_DEPTH {
            return (0, true);
        }
        let accept = self.bit(t::CTX_ACC + depth.min(3));
        set_accept(id, accept);
        let leaf_state = self.bit(t::CTX_LEAF + depth.min(7));
        let mut prev = K_START;
        let mut cur = 0u16;
        let mut leaf = true;
        let mut run_len = 0usize;
        for d in 0..10 {
            if d > 0 {
                let ctx = ((d - 1) * 4 + prev) * 3 + run_len.min(3) - 1;
                if !self.bit(t::CTX_RUN + ctx) {
                    set_next(id, d, cur);
                    run_len += 1;
                    continue;
                }
            }
            run_len = 1;
            let (target, kind) = self.target(prev, depth + 1, leaf_state);
            if kind == K_BACK || kind == K_FRESH {
                leaf = false;
            }
            cur = target;
            prev = kind;
            set_next(id, d, target);
        }
        (id, leaf)
    }
}

#[cfg(test)]
pub(super) fn decoded_state_count() -> usize {
    let mut dec = Decoder::new();
    while dec.plan < t::N_PLANS {
        dec.decode_plan();
    }
    dec.count()
}
