//! How clients write "stop texting me" and "yes" in English and Spanish, beyond the
//! keywords. The FCC's 2024 rule lets a client revoke consent "by any reasonable means", so
//! a fixed list of phrases is not enough; but a reader that revokes on any "stop" would cut
//! off the client who wrote "I'll stop by". The reader here looks for the shape of a
//! request not to be texted:
//!
//! - a stop verb aimed at texts or at texting ("stop texting", "quit sending me these",
//!   "cancel the text messages", "dejen de enviarme mensajes", "paren los mensajes");
//! - a refusal of texting in the imperative, in any person ("don't text me", "do not send
//!   me anything else", "no me manden más mensajes", "no me escriban");
//! - a refusal of the texts themselves ("I don't want these texts anymore", "no longer
//!   wish to receive messages", "no quiero recibir más mensajes", "no más mensajes");
//! - a request to be removed ("take me off your list", "remove my number", "quítenme de la
//!   lista", "denme de baja", "unsubscribe me", "opt out").
//!
//! Verbs are matched in the forms that make a request: "no me manden" (subjunctive) asks,
//! "no me mandaron" (preterite: "they did not send me") tells, and is not read. Pronouns
//! attached to a Spanish verb ("enviarme", "quítenme") are taken off before it is matched.
//! A verb that sends ("send", "mandar") needs texts or nothing as its object: "don't send
//! me the papers" is about papers.
//!
//! What may be a revocation but is not clearly one ([`Heard::Unclear`], with the reason
//! staff see): "stop calling me", "wrong number", "I don't want this anymore", "enough",
//! "cancel the reminder" (one text, or all?), "why do you keep texting me". casewire
//! flags these to staff and sends the one clarification the rule allows.
//!
//! A confirmation is a clear yes with only polite or agreeing words around it ("Yes
//! please", "yes, thank you", "Yes I agree", "Sí, gracias"); any other word ("yes but…",
//! "si puedo ir", a question) makes it not one.
//!
//! The corpus these rules are held against is in tests/corpus/; docs/consent.md says why
//! each rule is there.

/// What the grammar heard, beyond the whole-message keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A clear request not to be texted.
    Revocation,
    /// May be a revocation, is not clearly one: why.
    Unclear(&'static str),
    /// A clear yes, with only polite or agreeing words around it.
    Agreement,
}

/// The word that stands for a break between sentences or clauses: "I'll stop. Text me
/// later" is not "stop texting".
const BREAK: &str = ".";

/// A text as words: upper case, accents, apostrophes and hyphens dropped ("Don't" → DONT,
/// "Quítenme" → QUITENME, "opt-out" → OPT OUT), with [`BREAK`] where punctuation ended a
/// sentence or a clause.
pub struct Words(Vec<String>);

impl Words {
    pub fn new(text: &str) -> Self {
        let mut words: Vec<String> = Vec::new();
        let mut word = String::new();
        let end = |word: &mut String, words: &mut Vec<String>| {
            // "dejé" (I stopped) and "deje" (stop!) differ only by the accent.
            if word == "DEJÉ" {
                words.push(std::mem::take(word));
            } else if !word.is_empty() {
                words.push(word.chars().map(casewire_sms::words::fold).collect());
                word.clear();
            }
        };
        let chars: Vec<char> = text.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let inner = (c == '\'' || c == '’')
                && i > 0
                && chars[i - 1].is_alphanumeric()
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
            if c.is_alphanumeric() {
                word.extend(c.to_uppercase());
            } else if !inner {
                end(&mut word, &mut words);
                if ".,;:!?¿¡\n".contains(c) && words.last().is_some_and(|w| w != BREAK) {
                    words.push(BREAK.into());
                }
            }
        }
        end(&mut word, &mut words);
        if words.last().is_some_and(|w| w == BREAK) {
            words.pop();
        }
        Words(words)
    }

    fn at(&self, i: usize) -> &str {
        self.0.get(i).map_or("", String::as_str)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// The one word, when there is exactly one.
    pub fn single(&self) -> Option<&str> {
        match self.0.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    fn has(&self, word: &str) -> bool {
        self.0.iter().any(|w| w == word)
    }
}

fn one_of(word: &str, set: &[&str]) -> bool {
    !word.is_empty() && set.contains(&word)
}

/// Words that may stand around a keyword or end a request without changing it.
pub const FILLERS: &[&str] = &[
    BREAK, "PLEASE", "PLS", "PLZ", "NOW", "THANKS", "THANK", "YOU", "THX", "TY", "OK", "OKAY",
    "JUST", "ALREADY", "IT", "I", "SAID", "AGAIN", "ANYMORE", "EVER", "POR", "FAVOR", "PORFA",
    "PORFAVOR", "GRACIAS", "YA", "AHORA", "MAS",
];

/// What follows a verb of texting: texts, one text, something vague, or something else.
#[derive(Debug, PartialEq, Eq)]
enum Object {
    Texts,
    OneText,
    Vague,
    Other,
}

struct Language {
    code: &'static str,
    /// Texts, plural or uncountable: aiming at them is clear.
    texts: &'static [&'static str],
    /// One text: "cancel the reminder" may mean one.
    one_text: &'static [&'static str],
    /// Words that may stand between a verb and its texts ("the", "these", "todos los").
    determiners: &'static [&'static str],
    /// "this", "it", "esto": something, unnamed.
    vague: &'static [&'static str],
}

const EN: Language = Language {
    code: "en",
    texts: &[
        "TEXTS",
        "TXTS",
        "MESSAGES",
        "MSGS",
        "SMS",
        "REMINDERS",
        "NOTIFICATIONS",
        "ALERTS",
        "MESSAGING",
        "TEXTING",
        "UPDATES",
    ],
    one_text: &[
        "TEXT",
        "TXT",
        "MESSAGE",
        "MSG",
        "REMINDER",
        "NOTIFICATION",
        "ALERT",
    ],
    determiners: &[
        "THE",
        "THESE",
        "THOSE",
        "THIS",
        "YOUR",
        "ALL",
        "ANY",
        "MORE",
        "OF",
        "AUTOMATED",
        "AUTOMATIC",
        "DAILY",
        "STUPID",
        "ANNOYING",
        "DAMN",
        "CONSTANT",
        "COURT",
        "TEXT",
        "REMINDER",
        "FROM",
        "YOU",
        "Y'ALL",
        "YALL",
        "U",
    ],
    vague: &[
        "THIS", "THAT", "IT", "THEM", "THESE", "THOSE", "ANYTHING", "STUFF",
    ],
};

const ES: Language = Language {
    code: "es",
    texts: &[
        "MENSAJES",
        "TEXTOS",
        "SMS",
        "RECORDATORIOS",
        "NOTIFICACIONES",
        "ALERTAS",
        "MENSAJITOS",
        "MSJ",
        "MSJS",
        "MNSJS",
    ],
    one_text: &["MENSAJE", "TEXTO", "RECORDATORIO", "NOTIFICACION", "ALERTA"],
    determiners: &[
        "LOS", "LAS", "ESTOS", "ESTAS", "ESOS", "ESAS", "SUS", "MAS", "TODOS", "TODAS", "EL", "LA",
        "ESTE", "ESE", "SU", "DE", "TEXTO", "SUS", "ME", "NOS",
    ],
    vague: &["ESTO", "ESO", "NADA", "ESTOS", "ESOS", "COSAS"],
};

impl Language {
    /// What the words from `i` on name: a run of determiners and nouns decides.
    fn object(&self, w: &Words, i: usize) -> Object {
        if one_of(w.at(i), self.vague) {
            let rest_is_texts = (i + 1..w.len())
                .take_while(|&j| self.in_run(w.at(j)))
                .any(|j| one_of(w.at(j), self.texts) || one_of(w.at(j), self.one_text));
            if !rest_is_texts {
                return Object::Vague;
            }
        }
        let run: Vec<&str> = (i..w.len())
            .map(|j| w.at(j))
            .take_while(|x| self.in_run(x))
            .collect();
        if run.iter().any(|x| one_of(x, self.texts)) {
            Object::Texts
        } else if run.iter().any(|x| one_of(x, self.one_text)) {
            Object::OneText
        } else {
            Object::Other
        }
    }

    fn in_run(&self, x: &str) -> bool {
        one_of(x, self.determiners) || one_of(x, self.texts) || one_of(x, self.one_text)
    }

    /// Whether what follows a sending verb is texts, nothing or something vague ("don't
    /// send me anything else", "no me manden nada"), not a thing ("the papers").
    fn sends_texts(&self, w: &Words, mut i: usize) -> Option<Heard> {
        loop {
            if one_of(w.at(i), &["ME", "US", "NOS", "LE", "ANY", "MORE", "MAS"]) {
                i += 1;
            } else if one_of(w.at(i), &["THIS", "ESTE"])
                && one_of(w.at(i + 1), &["NUMBER", "NUMERO"])
            {
                i += 2;
            } else {
                break;
            }
        }
        let anything = one_of(w.at(i), &["ANYTHING", "NOTHING", "STUFF", "NADA", "ELSE"])
            || (one_of(w.at(i), self.vague) && ends_here(w, i + 1));
        if ends_here(w, i) || anything || one_of(w.at(i), &["TO", "A", "AL"]) {
            return Some(Heard::Revocation);
        }
        self.aimed(w, i, "asks not to be sent one text, not clearly all texts")
    }

    /// A stop or refusal aimed at what follows `i`.
    fn aimed(&self, w: &Words, i: usize, one: &'static str) -> Option<Heard> {
        match self.object(w, i) {
            Object::Texts => Some(Heard::Revocation),
            Object::OneText => Some(Heard::Unclear(one)),
            Object::Vague if ends_here(w, i + 1) => Some(Heard::Unclear(
                "refuses something without saying it is the texts",
            )),
            _ => None,
        }
    }
}

/// Whether only fillers follow `i`.
fn ends_here(w: &Words, i: usize) -> bool {
    (i..w.len()).all(|j| one_of(w.at(j), FILLERS))
}

const CALLS: &str = "asks not to be called, not clearly about texts";
const BOTHER: &str = "asks not to be bothered, not clearly about texts";
const ONE: &str = "asks to stop one text, not clearly all texts";

/// The strongest thing heard anywhere in the text: a revocation over an unclear one.
fn strongest(found: impl Iterator<Item = Option<Heard>>) -> Option<Heard> {
    let mut unclear = None;
    for heard in found.flatten() {
        match heard {
            Heard::Revocation => return Some(Heard::Revocation),
            Heard::Unclear(_) if unclear.is_none() => unclear = Some(heard),
            _ => {}
        }
    }
    unclear
}

// ---------------------------------------------------------------- English

const EN_STOP: &[&str] = &[
    "STOP",
    "QUIT",
    "CEASE",
    "END",
    "CANCEL",
    "HALT",
    "DISCONTINUE",
    "STOPP",
];
/// Texting itself, in the forms a request uses: "stop texting", "don't text me".
const EN_TEXTING: &[&str] = &[
    "TEXT",
    "TEXTING",
    "TXT",
    "TXTING",
    "TEXTIN",
    "MESSAGE",
    "MESSAGING",
    "MSG",
    "MSGING",
    "CONTACT",
    "CONTACTING",
    "SMS",
    "SPAM",
    "SPAMMING",
];
const EN_SEND: &[&str] = &["SEND", "SENDING"];
const EN_CALL: &[&str] = &["CALL", "CALLING"];
const EN_BOTHER: &[&str] = &[
    "BOTHER",
    "BOTHERING",
    "HARASS",
    "HARASSING",
    "PESTER",
    "PESTERING",
];
/// Who may stand before "don't" when it tells rather than asks ("I don't text much",
/// "why don't you text me").
const EN_SUBJECTS: &[&str] = &[
    "I", "IM", "WE", "YOU", "U", "THEY", "HE", "SHE", "WHY", "WHO", "HOW", "PEOPLE", "IT", "THAT",
    "MOM", "SHE", "HE", "LANDLORD",
];
/// Before a stop verb, words that make it a noun ("the end") or negate it ("don't stop").
const EN_NOT_BEFORE_STOP: &[&str] = &[
    "THE", "A", "AN", "THIS", "THAT", "BUS", "NO", "AT", "BY", "DONT", "NOT", "NEVER", "DIDNT",
    "WONT", "CANT",
];
const EN_NEGATED: &[&str] = &[
    "DONT", "NOT", "DIDNT", "NEVER", "WONT", "DOESNT", "CANT", "NO",
];

fn english(w: &Words) -> Option<Heard> {
    let l = &EN;
    let found = (0..w.len()).map(|i| {
        let word = w.at(i);
        let before = if i > 0 { w.at(i - 1) } else { "" };
        let negated = one_of(before, EN_NEGATED) || (i > 1 && one_of(w.at(i - 2), EN_NEGATED));
        // "stop texting", "quit sending me these", "cancel the text messages".
        if one_of(word, EN_STOP) && !one_of(before, EN_NOT_BEFORE_STOP) {
            let mut j = i + 1;
            while one_of(
                w.at(j),
                &["ALL", "JUST", "NOW", "PLEASE", "PLS", "WITH", "ALREADY"],
            ) {
                j += 1;
            }
            let next = w.at(j);
            let texting = one_of(next, EN_TEXTING)
                || (one_of(w.at(j + 1), &["AND", "OR"]) && one_of(w.at(j + 2), EN_TEXTING));
            return if texting {
                Some(Heard::Revocation)
            } else if one_of(next, EN_CALL) && !w.has("INSTEAD") {
                Some(Heard::Unclear(CALLS))
            } else if one_of(next, EN_BOTHER) {
                Some(Heard::Unclear(BOTHER))
            } else if one_of(next, EN_SEND) {
                l.sends_texts(w, j + 1)
            } else if one_of(next, &["RECEIVING", "GETTING"]) {
                l.aimed(w, j + 1, ONE)
            } else {
                l.aimed(w, j, ONE)
            };
        }
        // "make it stop"
        if word == "MAKE" && one_of(w.at(i + 1), &["IT", "THIS", "THEM"]) && w.at(i + 2) == "STOP" {
            return Some(Heard::Unclear(
                "asks to make it stop, without saying it is the texts",
            ));
        }
        // "don't text me", "do not send me anything else", "never message this number".
        let refusal = match word {
            "DONT" | "NEVER" => Some(i + 1),
            "DO" if w.at(i + 1) == "NOT" => Some(i + 2),
            _ => None,
        };
        if let Some(mut j) = refusal {
            while one_of(w.at(j), &["EVER", "AGAIN", "PLEASE", "EVEN"]) {
                j += 1;
            }
            let verb = w.at(j);
            if one_of(verb, &["WANT", "WANNA", "WISH", "NEED"]) {
                return english_desire(w, j + 1);
            }
            if one_of(before, EN_SUBJECTS) {
                return None;
            }
            // "don't call or text me"
            let (texting, last) = if one_of(w.at(j + 1), &["AND", "OR"]) {
                (
                    one_of(verb, EN_TEXTING) || one_of(w.at(j + 2), EN_TEXTING),
                    j + 2,
                )
            } else {
                (one_of(verb, EN_TEXTING), j)
            };
            let then = w.at(last + 1);
            let at_me = ends_here(w, last + 1) || one_of(then, &["ME", "US", "THIS", "MY", "HERE"]);
            return if texting && at_me {
                Some(Heard::Revocation)
            } else if one_of(verb, EN_CALL) && at_me && !w.has("INSTEAD") {
                Some(Heard::Unclear(CALLS))
            } else if one_of(verb, EN_BOTHER) {
                Some(Heard::Unclear(BOTHER))
            } else if one_of(verb, EN_SEND) {
                l.sends_texts(w, j + 1)
            } else {
                None
            };
        }
        // "I no longer wish to receive messages"
        if word == "LONGER"
            && before == "NO"
            && one_of(w.at(i + 1), &["WANT", "WISH", "NEED", "LIKE"])
        {
            return english_desire(w, i + 2);
        }
        // "no more texts", "no texts please", "no more"
        if word == "NO" {
            let j = if w.at(i + 1) == "MORE" { i + 2 } else { i + 1 };
            return match l.object(w, j) {
                Object::Texts if j == i + 2 || ends_here(w, j + 1) => Some(Heard::Revocation),
                Object::OneText if j == i + 2 => Some(Heard::Unclear(ONE)),
                _ if j == i + 2 && ends_here(w, j) => {
                    Some(Heard::Unclear("says \"no more\" without saying of what"))
                }
                _ => None,
            };
        }
        // "unsubscribe", "opt out", "opt me out", "sign me off", "leave me alone"
        if (word == "UNSUBSCRIBE"
            || word == "OPTOUT"
            || (word == "OPT"
                && (w.at(i + 1) == "OUT" || (w.at(i + 1) == "ME" && w.at(i + 2) == "OUT")))
            || (word == "SIGN" && w.at(i + 1) == "ME" && w.at(i + 2) == "OFF")
            || (word == "LEAVE" && w.at(i + 1) == "ME" && w.at(i + 2) == "ALONE"))
            && !negated
        {
            return Some(Heard::Revocation);
        }
        // "take me off your list", "remove my number", "delete this number"
        if one_of(word, &["TAKE", "REMOVE", "DELETE", "ERASE"]) {
            return english_removal(w, i + 1);
        }
        // What may be one, and is not clearly.
        if word == "WRONG" && one_of(w.at(i + 1), &["NUMBER", "PERSON", "NUMBERS", "#"]) {
            return Some(Heard::Unclear("says it is the wrong number"));
        }
        if word == "TOO" && w.at(i + 1) == "MANY" && one_of(w.at(i + 2), l.texts) {
            return Some(Heard::Unclear("says there are too many texts"));
        }
        if word == "NOT" && w.at(i + 1) == "INTERESTED" {
            return Some(Heard::Unclear("says they are not interested"));
        }
        if word == "ENOUGH"
            && (0..w.len()).all(|j| {
                j == i || one_of(w.at(j), FILLERS) || one_of(w.at(j), &["THATS", "IS", "THAT"])
            })
        {
            return Some(Heard::Unclear("says \"enough\""));
        }
        if word == "WHY"
            && (i + 1..(i + 6).min(w.len())).any(|j| {
                one_of(
                    w.at(j),
                    &["TEXTING", "MESSAGING", "CONTACTING", "TEXT", "MESSAGE"],
                )
            })
            && (i + 1..(i + 6).min(w.len()))
                .any(|j| one_of(w.at(j), &["KEEP", "KEEPS", "ARE", "IS", "DO", "DOES"]))
        {
            return Some(Heard::Unclear("asks why they are being texted"));
        }
        None
    });
    strongest(found)
}

/// After "don't want", "no longer wish": texts, being texted, or something unnamed.
fn english_desire(w: &Words, mut i: usize) -> Option<Heard> {
    let l = &EN;
    // "… you to text me", "… y'all texting me"
    if one_of(w.at(i), &["YOU", "U", "YALL", "Y'ALL", "ANYONE"]) {
        let j = if w.at(i + 1) == "TO" { i + 2 } else { i + 1 };
        return if one_of(w.at(j), EN_TEXTING) {
            Some(Heard::Revocation)
        } else if one_of(w.at(j), EN_SEND) {
            l.sends_texts(w, j + 1)
        } else if one_of(w.at(j), EN_CALL) {
            Some(Heard::Unclear(CALLS))
        } else {
            None
        };
    }
    if w.at(i) == "TO" {
        i += 1;
        // "… to be texted", "… to be contacted"
        if w.at(i) == "BE" {
            return one_of(
                w.at(i + 1),
                &[
                    "TEXTED",
                    "CONTACTED",
                    "MESSAGED",
                    "TXTED",
                    "SPAMMED",
                    "REMINDED",
                    "SENT",
                ],
            )
            .then_some(Heard::Revocation);
        }
        if one_of(w.at(i), &["KEEP", "CONTINUE"]) {
            i += 1;
        }
        if !one_of(
            w.at(i),
            &[
                "GET",
                "RECEIVE",
                "HAVE",
                "GETTING",
                "RECEIVING",
                "SEE",
                "READ",
            ],
        ) {
            return None;
        }
        i += 1;
    }
    l.aimed(w, i, "refuses a text, not clearly all texts")
}

/// After "take", "remove": me or my number, off or from a list or the texts.
fn english_removal(w: &Words, mut i: usize) -> Option<Heard> {
    match (w.at(i), w.at(i + 1), w.at(i + 2)) {
        ("ME" | "US", _, _) => i += 1,
        ("MY", "NUMBER" | "PHONE" | "CELL", "NUMBER") => i += 3,
        ("MY" | "THIS", "NUMBER" | "PHONE" | "CELL", _) => i += 2,
        _ => return None,
    }
    if ends_here(w, i) {
        return Some(Heard::Revocation);
    }
    match (w.at(i), w.at(i + 1)) {
        ("OFF" | "FROM", _) => i += 1,
        ("OUT", "OF") => i += 2,
        _ => return None,
    }
    let named = (i..w.len())
        .map(|j| w.at(j))
        .take_while(|x| !one_of(x, FILLERS) || one_of(x, &["IT"]))
        .any(|x| {
            one_of(
                x,
                &[
                    "LIST",
                    "LISTS",
                    "TEXTS",
                    "MESSAGES",
                    "TEXTING",
                    "MESSAGING",
                    "CONTACTS",
                    "DATABASE",
                    "SYSTEM",
                    "REMINDERS",
                    "THIS",
                    "IT",
                    "THAT",
                ],
            )
        });
    (ends_here(w, i) || named).then_some(Heard::Revocation)
}

// ---------------------------------------------------------------- Spanish

/// Verbs of texting as infinitives (after "dejen de"), by their stem.
const ES_TEXTING: &[&str] = &["ESCRIBIR", "TEXTEAR", "CONTACTAR", "MENSAJEAR"];
const ES_SEND: &[&str] = &["ENVIAR", "MANDAR"];
/// The same verbs asked for: subjunctive ("no me manden", "no me escriba").
const ES_TEXTING_ASKED: &[&str] = &[
    "ESCRIBAN",
    "ESCRIBA",
    "ESCRIBAS",
    "TEXTEEN",
    "TEXTEE",
    "TEXTEES",
    "CONTACTEN",
    "CONTACTE",
    "CONTACTES",
    "MENSAJEEN",
    "MENSAJEE",
];
const ES_SEND_ASKED: &[&str] = &["ENVIEN", "ENVIE", "ENVIES", "MANDEN", "MANDE", "MANDES"];
const ES_CALL_ASKED: &[&str] = &["LLAMEN", "LLAME", "LLAMES"];
const ES_BOTHER_ASKED: &[&str] = &["MOLESTEN", "MOLESTE", "MOLESTES"];
/// "dejen de", "paren de": asked, or as an infinitive ("quiero dejar de").
const ES_STOP_DOING: &[&str] = &[
    "DEJEN", "DEJE", "DEJA", "DEJES", "DEJAR", "PAREN", "PARE", "PARAR",
];
/// Stop verbs with an object: "cancelen los mensajes", "detengan los textos".
const ES_STOP: &[&str] = &[
    "DETENGAN",
    "DETENGA",
    "DETENER",
    "CANCELEN",
    "CANCELE",
    "CANCELAR",
    "PAREN",
    "PARE",
    "PARAR",
    "TERMINEN",
    "TERMINAR",
    "SUSPENDAN",
    "SUSPENDER",
    "SUSPENDA",
];
/// Removal: "quítenme", "sáquenme de la lista", "borren mi número".
const ES_REMOVE: &[&str] = &[
    "QUITEN", "SAQUEN", "BORREN", "ELIMINEN", "QUITE", "SAQUE", "BORRE", "ELIMINE", "QUITAR",
    "SACAR", "BORRAR", "ELIMINAR",
];

/// The word without a pronoun attached to it ("enviarme" → ENVIAR, "quítenme" → QUITEN),
/// and whether one was.
fn without_pronoun(word: &str) -> (&str, bool) {
    for p in ["NOS", "LES", "ME", "LE"] {
        if let Some(stem) = word.strip_suffix(p) {
            if stem.len() > 3 {
                return (stem, true);
            }
        }
    }
    (word, false)
}

fn spanish(w: &Words) -> Option<Heard> {
    let l = &ES;
    let found = (0..w.len()).map(|i| {
        let word = w.at(i);
        let before = if i > 0 { w.at(i - 1) } else { "" };
        let (bare, attached) = without_pronoun(word);
        if before == "NO" {
            // "no dejen de escribirme": the opposite.
            return None;
        }
        // "dejen de enviarme mensajes", "paren de escribir", "quiero dejar de recibir mensajes"
        if one_of(word, ES_STOP_DOING) && w.at(i + 1) == "DE" {
            let (verb, _) = without_pronoun(w.at(i + 2));
            return if one_of(verb, ES_TEXTING) {
                Some(Heard::Revocation)
            } else if one_of(verb, ES_SEND) {
                l.sends_texts(w, i + 3)
            } else if verb == "LLAMAR" {
                Some(Heard::Unclear(CALLS))
            } else if verb == "MOLESTAR" {
                Some(Heard::Unclear(BOTHER))
            } else if one_of(verb, &["RECIBIR", "TENER"]) && one_of(word, &["DEJAR", "PARAR"]) {
                l.aimed(w, i + 3, ONE)
            } else {
                None
            };
        }
        if one_of(word, ES_STOP) {
            return l.aimed(w, i + 1, ONE);
        }
        // "no me manden más mensajes", "no me escriban", "no me sigan mandando", "no
        // vuelvan a escribirme"
        if word == "NO" {
            let mut j = i + 1;
            while one_of(w.at(j), &["ME", "NOS", "MAS", "LE", "ME", "VOLVER"]) {
                j += 1;
            }
            return spanish_asked(w, j);
        }
        // "ya basta de mensajes", "basta"
        if word == "BASTA" {
            return if w.at(i + 1) == "DE" {
                l.aimed(w, i + 2, ONE)
            } else if (0..w.len()).all(|j| j == i || one_of(w.at(j), FILLERS)) {
                Some(Heard::Unclear("says \"basta\" (enough)"))
            } else {
                None
            };
        }
        // "quítenme de la lista", "borren mi número", "quiero que me saquen de la lista"
        if one_of(bare, ES_REMOVE) {
            let me = attached || (i > 0 && w.at(i - 1) == "ME");
            let mut j = i + 1;
            let number = one_of(w.at(j), &["MI", "ESTE"])
                && one_of(w.at(j + 1), &["NUMERO", "TELEFONO", "CELULAR"]);
            if number {
                j += 2;
            }
            if !(me || number) {
                return None;
            }
            if ends_here(w, j) {
                return Some(Heard::Revocation);
            }
            let named = w.at(j) == "DE"
                && (j + 1..w.len()).map(|k| w.at(k)).any(|x| {
                    one_of(
                        x,
                        &[
                            "LISTA",
                            "LISTAS",
                            "MENSAJES",
                            "TEXTOS",
                            "CONTACTOS",
                            "SISTEMA",
                            "ESTO",
                            "AQUI",
                        ],
                    )
                });
            return named.then_some(Heard::Revocation);
        }
        // "denme de baja", "quiero darme de baja", "me doy de baja"
        if word == "BAJA" && i >= 2 && w.at(i - 1) == "DE" {
            let giving = &[
                "DAR", "DARME", "DARNOS", "DEN", "DENME", "DENNOS", "DE", "DOY", "DA",
            ];
            return one_of(w.at(i - 2), giving).then_some(Heard::Revocation);
        }
        // What may be one, and is not clearly.
        if one_of(
            word,
            &[
                "EQUIVOCADO",
                "EQUIVOCADA",
                "EQUIVOCARON",
                "EQUIVOCO",
                "INCORRECTO",
            ],
        ) && (0..w.len()).any(|j| w.at(j) == "NUMERO")
        {
            return Some(Heard::Unclear("says it is the wrong number"));
        }
        if one_of(word, &["DEMASIADOS", "MUCHOS"])
            && one_of(w.at(i + 1), l.texts)
            && ends_here(w, i + 2)
        {
            return Some(Heard::Unclear("says there are too many texts"));
        }
        if word == "POR"
            && w.at(i + 1) == "QUE"
            && (i + 2..(i + 7).min(w.len())).any(|j| {
                one_of(
                    w.at(j),
                    &[
                        "ESCRIBEN",
                        "MANDAN",
                        "ENVIAN",
                        "TEXTEAN",
                        "MENSAJES",
                        "ESCRIBIENDO",
                        "MANDANDO",
                    ],
                )
            })
        {
            return Some(Heard::Unclear("asks why they are being texted"));
        }
        None
    });
    strongest(found)
}

/// After "no (me)": a texting verb asked for, a refusal of texts ("no quiero…"), or "no
/// más".
fn spanish_asked(w: &Words, j: usize) -> Option<Heard> {
    let l = &ES;
    let verb = w.at(j);
    if one_of(verb, ES_TEXTING_ASKED) {
        return Some(Heard::Revocation);
    }
    if one_of(verb, ES_SEND_ASKED) {
        return l.sends_texts(w, j + 1);
    }
    if one_of(verb, ES_CALL_ASKED) {
        return Some(Heard::Unclear(CALLS));
    }
    if one_of(verb, ES_BOTHER_ASKED) {
        return Some(Heard::Unclear(BOTHER));
    }
    // "no me sigan mandando", "no vuelvan a escribirme"
    if one_of(verb, &["SIGAN", "SIGA", "VUELVAN", "VUELVA"]) {
        let k = if w.at(j + 1) == "A" { j + 2 } else { j + 1 };
        let (next, _) = without_pronoun(w.at(k));
        return if one_of(next, ES_TEXTING)
            || one_of(
                next,
                &["ESCRIBIENDO", "TEXTEANDO", "CONTACTANDO", "MENSAJEANDO"],
            ) {
            Some(Heard::Revocation)
        } else if one_of(next, ES_SEND) || one_of(next, &["ENVIANDO", "MANDANDO"]) {
            l.sends_texts(w, k + 1)
        } else {
            None
        };
    }
    // "no quiero recibir más mensajes", "no quiero que me escriban", "no me interesa"
    if one_of(verb, &["QUIERO", "DESEO", "NECESITO", "QUEREMOS"]) {
        let mut k = j + 1;
        if w.at(k) == "QUE" {
            k += 1;
            while one_of(w.at(k), &["ME", "NOS", "MAS", "SIGAN", "VUELVAN"]) {
                k += 1;
            }
            return spanish_asked(w, k);
        }
        if one_of(w.at(k), &["RECIBIR", "TENER", "VER"]) {
            k += 1;
        }
        return l.aimed(w, k, "refuses a text, not clearly all texts");
    }
    if verb == "INTERESA" && ends_here(w, j + 1) {
        return Some(Heard::Unclear("says they are not interested"));
    }
    // "no más mensajes", "no más"
    if w.at(j.saturating_sub(1)) == "MAS" {
        return match l.object(w, j) {
            Object::Texts => Some(Heard::Revocation),
            Object::OneText => Some(Heard::Unclear(ONE)),
            _ if ends_here(w, j) => Some(Heard::Unclear("says \"no más\" without saying of what")),
            _ => None,
        };
    }
    None
}

// ---------------------------------------------------------------- yes

const EN_YES: &[&str] = &[
    "Y",
    "YES",
    "YEA",
    "YEAH",
    "YEP",
    "YUP",
    "YES",
    "YESS",
    "YESSS",
    "YS",
    "OK",
    "OKAY",
    "OKEY",
    "K",
    "KK",
    "SURE",
    "CONFIRM",
    "CONFIRMED",
    "AGREE",
    "AGREED",
    "ACCEPT",
    "ABSOLUTELY",
    "DEFINITELY",
    "CORRECT",
    "ALRIGHT",
    "COURSE",
];
const EN_AROUND: &[&str] = &[
    "PLEASE",
    "PLS",
    "PLZ",
    "THANK",
    "THANKS",
    "THX",
    "TY",
    "YOU",
    "I",
    "IM",
    "ID",
    "DO",
    "WILL",
    "WOULD",
    "LIKE",
    "LOVE",
    "WANT",
    "TO",
    "GET",
    "RECEIVE",
    "SEND",
    "THEM",
    "THE",
    "TEXTS",
    "TEXT",
    "MESSAGES",
    "REMINDERS",
    "SOUNDS",
    "GOOD",
    "GREAT",
    "FINE",
    "THATS",
    "THAT",
    "IS",
    "ITS",
    "IT",
    "OF",
    "GO",
    "AHEAD",
    "SIGN",
    "ME",
    "UP",
    "COUNT",
    "IN",
    "VERY",
    "MUCH",
    "SO",
    "SIR",
    "MAAM",
    "ALL",
    "RIGHT",
    "PERFECT",
    "AND",
    "CONFIRMING",
    "AM",
    "HI",
    "HELLO",
    "WORKS",
    BREAK,
];
const ES_YES: &[&str] = &[
    "SI",
    "SIP",
    "SII",
    "SIII",
    "CLARO",
    "OK",
    "OKEY",
    "OKAY",
    "VALE",
    "ACEPTO",
    "CONFIRMO",
    "CONFIRMADO",
    "CORRECTO",
    "ACUERDO",
    "SUPUESTO",
];
const ES_AROUND: &[&str] = &[
    "POR",
    "FAVOR",
    "PORFA",
    "PORFAVOR",
    "GRACIAS",
    "MUCHAS",
    "MUY",
    "AMABLE",
    "DE",
    "QUIERO",
    "RECIBIR",
    "LOS",
    "MENSAJES",
    "TEXTOS",
    "RECORDATORIOS",
    "QUE",
    "ESTA",
    "BIEN",
    "PERFECTO",
    "CON",
    "GUSTO",
    "YO",
    "LO",
    "BUENO",
    "SENOR",
    "SENORA",
    "Y",
    "ESTOY",
    "HOLA",
    "BUENOS",
    "DIAS",
    "TARDES",
    BREAK,
];

/// A clear yes in `code`'s language with only polite or agreeing words around it.
fn agreement(w: &Words, yes: &[&str], around: &[&str]) -> bool {
    let words = || (0..w.len()).map(|i| w.at(i));
    words().any(|x| one_of(x, yes)) && words().all(|x| one_of(x, yes) || one_of(x, around))
}

/// What the grammar hears in `text` (as [`Words`]), and in which language: a revocation in
/// any language before an unclear one, then a yes. `asks` is whether the client's text
/// ended on a question mark: "Yes?" asks, it does not agree.
pub fn hear(w: &Words, asks: bool) -> Option<(Heard, &'static str)> {
    let revocations = [(english(w), EN.code), (spanish(w), ES.code)];
    if let Some((_, code)) = revocations
        .iter()
        .find(|(h, _)| *h == Some(Heard::Revocation))
    {
        return Some((Heard::Revocation, code));
    }
    if let Some((Some(h), code)) = revocations.iter().find(|(h, _)| h.is_some()) {
        return Some((*h, code));
    }
    if asks {
        return None;
    }
    if agreement(w, EN_YES, EN_AROUND) {
        return Some((Heard::Agreement, EN.code));
    }
    if agreement(w, ES_YES, ES_AROUND) {
        return Some((Heard::Agreement, ES.code));
    }
    None
}
