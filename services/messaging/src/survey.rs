//! One recipient's way through a survey: each reply that answers the question waiting is
//! an answer, and the answer chooses the next question (`next`), until the survey ends. A
//! reply that does not read as an answer (answers.rs) is asked again once, then kept as
//! the client's words. No I/O here: the worker (surveys.rs) gathers the reply, the plan
//! and the keywords, and sends the texts the events name.

use casewire_bus::{ErrorCode, Refusal};
use casewire_events::survey::{Answer, AnswerKind, Question, Survey, SurveyEvent, END};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::answers;

/// What is wrong with a survey, in words for the API's 422.
pub fn check(survey: &Survey) -> Result<(), String> {
    if survey.questions.is_empty() || survey.questions.len() > 50 {
        return Err("survey.questions: 1 to 50 questions".into());
    }
    casewire_tenancy::Offset::parse(&survey.expires).map_err(|e| format!("survey.expires: {e}"))?;
    for (i, q) in survey.questions.iter().enumerate() {
        let at = format!("survey.questions[{i}]");
        if q.id.is_empty()
            || q.id.len() > 40
            || q.id == END
            || !q
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "{at}.id: 1 to 40 letters, digits, _ or -, and not \"{END}\""
            ));
        }
        if survey.questions[..i].iter().any(|p| p.id == q.id) {
            return Err(format!(
                "{at}.id: {:?} is the id of an earlier question",
                q.id
            ));
        }
        if q.text.is_empty() {
            return Err(format!("{at}.text: at least one, by language"));
        }
        for (language, text) in &q.text {
            casewire_tenancy::check_language(&format!("{at}.text"), language)?;
            casewire_tenancy::check_text(&format!("{at}.text.{language}"), text, 640, &[])?;
        }
        let answers: Option<Vec<String>> = match &q.answer {
            AnswerKind::YesNo => Some(vec!["yes".into(), "no".into()]),
            AnswerKind::Scale { min, max } => {
                if !(0..=100).contains(min) || !(0..=100).contains(max) || min >= max {
                    return Err(format!(
                        "{at}.answer.scale: min below max, both from 0 to 100"
                    ));
                }
                Some((*min..=*max).map(|n| n.to_string()).collect())
            }
            AnswerKind::Choice { options } => {
                if !(2..=10).contains(&options.len())
                    || options
                        .iter()
                        .any(|o| o.trim().is_empty() || o.chars().count() > 100 || o.contains('\n'))
                {
                    return Err(format!(
                        "{at}.answer.choice.options: 2 to 10 options of 1 to 100 characters"
                    ));
                }
                Some(options.clone())
            }
            AnswerKind::FreeText => None,
        };
        for (answer, target) in &q.next {
            let known = answer == casewire_events::survey::ANY
                || answers.as_ref().is_some_and(|a| a.contains(answer));
            if !known {
                return Err(format!(
                    "{at}.next: {answer:?} is not an answer to this question{}",
                    answers.as_ref().map_or(String::new(), |a| format!(
                        " ({}, or \"*\" for any other)",
                        a.join(", ")
                    ))
                ));
            }
            let later = survey.questions[i + 1..].iter().any(|l| &l.id == target);
            if target != END && !later {
                return Err(format!(
                    "{at}.next.{answer}: {target:?} is not a later question's id or \"{END}\""
                ));
            }
        }
    }
    Ok(())
}

/// The text in `language` of a map by language: the tag, its primary language, English,
/// else the first there is.
pub fn in_language<'a>(
    texts: &'a std::collections::BTreeMap<String, String>,
    language: &str,
) -> &'a str {
    let primary = language.split('-').next().unwrap_or(language);
    [language, primary, "en"]
        .iter()
        .find_map(|l| texts.get(*l))
        .or_else(|| texts.values().next())
        .map_or("", String::as_str)
}

fn spanish(language: &str) -> bool {
    language.split('-').next() == Some("es")
}

/// A question as the client reads it: its text, and a choice's options by letter.
pub fn ask(question: &Question, language: &str) -> String {
    let text = in_language(&question.text, language).to_string();
    match &question.answer {
        AnswerKind::Choice { options } => {
            let lines: Vec<String> = options
                .iter()
                .zip('A'..='Z')
                .map(|(o, letter)| format!("{letter}) {o}"))
                .collect();
            format!("{text}\n{}", lines.join("\n"))
        }
        _ => text,
    }
}

/// A question asked again, after a reply that did not answer it: how to answer, then the
/// question.
pub fn reask(question: &Question, language: &str) -> String {
    let es = spanish(language);
    let how = match &question.answer {
        AnswerKind::YesNo if es => "Responda SÍ o NO.".to_string(),
        AnswerKind::YesNo => "Please reply YES or NO.".to_string(),
        AnswerKind::Scale { min, max } if es => {
            format!("Responda con un número del {min} al {max}.")
        }
        AnswerKind::Scale { min, max } => {
            format!("Please reply with a number from {min} to {max}.")
        }
        AnswerKind::Choice { options } => {
            let letters: Vec<String> = ('A'..='Z').take(options.len()).map(String::from).collect();
            if es {
                format!("Responda con una letra: {}.", letters.join(", "))
            } else {
                format!("Please reply with one letter: {}.", letters.join(", "))
            }
        }
        AnswerKind::FreeText if es => "Responda con unas palabras.".to_string(),
        AnswerKind::FreeText => "Please reply with a few words.".to_string(),
    };
    let sorry = if es {
        "Perdón, no entendimos."
    } else {
        "Sorry, we did not understand."
    };
    format!("{sorry} {how}\n{}", ask(question, language))
}

/// The id of the text that follows recipient `n`'s reply `reply`: asked twice (a worker's
/// retry), the same text.
pub fn message_id(campaign: &str, n: u32, reply: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("survey/{campaign}/{n}/{reply}").as_bytes(),
    )
    .to_string()
}

/// Recipient `n`'s answers so far.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SurveyResponse {
    /// The question waiting for an answer; `None` before the first answer: the first.
    waiting: Option<String>,
    reasked: bool,
    finished: bool,
    /// The replies read, so that a reply read twice (a retried job) counts once.
    replies: Vec<String>,
}

/// A client's reply to recipient `n` of `campaign`'s survey, opened.
#[derive(Clone, Debug)]
pub struct Reply {
    pub campaign: String,
    pub n: u32,
    pub case_id: String,
    pub survey: Box<Survey>,
    /// The reply's message id.
    pub reply: String,
    pub text: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SurveyError {
    #[error("question {0:?} is not in the survey")]
    UnknownQuestion(String),
}

impl Refusal for SurveyError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Invalid
    }
}

impl Aggregate for SurveyResponse {
    const TYPE: &'static str = casewire_events::survey::AGGREGATE;
    type Command = Reply;
    type Event = SurveyEvent;
    type Error = SurveyError;
    type Services = ();

    async fn handle(
        &mut self,
        reply: Reply,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), SurveyError> {
        if self.finished || self.replies.contains(&reply.reply) {
            return Ok(());
        }
        let survey = &reply.survey;
        let question = match &self.waiting {
            Some(id) => survey.question(id),
            None => survey.questions.first(),
        }
        .ok_or_else(|| SurveyError::UnknownQuestion(self.waiting.clone().unwrap_or_default()))?;
        let (campaign, n) = (reply.campaign.clone(), reply.n);
        let message = message_id(&campaign, n, &reply.reply);
        let answer = match answers::parse(&question.answer, &reply.text) {
            Some(answer) => Some((answer, true)),
            None if self.reasked => Some((Answer::Text, false)),
            None => None,
        };
        let mut events = Vec::new();
        match answer {
            None => events.push(SurveyEvent::SurveyReasked {
                campaign,
                n,
                question: question.id.clone(),
                reply: reply.reply,
                message,
            }),
            Some((answer, parsed)) => {
                let next = survey.after(&question.id, &answer);
                events.push(SurveyEvent::SurveyAnswered {
                    campaign: campaign.clone(),
                    n,
                    case_id: reply.case_id,
                    question: question.id.clone(),
                    value: answer.key(&question.answer),
                    answer,
                    reply: reply.reply,
                    parsed,
                });
                events.push(match next {
                    Some(next) => SurveyEvent::SurveyAsked {
                        campaign,
                        n,
                        question: next.id.clone(),
                        message,
                    },
                    None => SurveyEvent::SurveyFinished { campaign, n },
                });
            }
        }
        for e in events {
            sink.write(e, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: SurveyEvent) {
        match event {
            SurveyEvent::SurveyAnswered { reply, .. } => {
                self.replies.push(reply);
                self.reasked = false;
            }
            SurveyEvent::SurveyReasked { reply, .. } => {
                self.replies.push(reply);
                self.reasked = true;
            }
            SurveyEvent::SurveyAsked { question, .. } => self.waiting = Some(question),
            SurveyEvent::SurveyFinished { .. } => self.finished = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    type Given = TestFramework<SurveyResponse>;

    /// Did we help? (yes leads on to the scale and the comment, no to the comment), how
    /// well, anything to add.
    fn survey() -> Survey {
        serde_json::from_value(json!({
            "questions": [
                {"id": "helped", "text": {"en": "Did we help?", "es": "¿Le ayudamos?"},
                 "answer": "yes_no", "next": {"no": "comment"}},
                {"id": "rating", "text": {"en": "How well, 1 to 5?"},
                 "answer": {"scale": {"min": 1, "max": 5}}},
                {"id": "comment", "text": {"en": "Anything to add?"}, "answer": "free_text"}
            ]
        }))
        .unwrap()
    }

    fn reply(id: &str, text: &str) -> Reply {
        Reply {
            campaign: "c1".into(),
            n: 7,
            case_id: "K-7".into(),
            survey: Box::new(survey()),
            reply: id.into(),
            text: text.into(),
        }
    }

    fn answered(question: &str, answer: Answer, reply: &str, parsed: bool) -> SurveyEvent {
        let survey = survey();
        let kind = &survey.question(question).unwrap().answer;
        SurveyEvent::SurveyAnswered {
            campaign: "c1".into(),
            n: 7,
            case_id: "K-7".into(),
            question: question.into(),
            value: answer.key(kind),
            answer,
            reply: reply.into(),
            parsed,
        }
    }

    fn asked(question: &str, after: &str) -> SurveyEvent {
        SurveyEvent::SurveyAsked {
            campaign: "c1".into(),
            n: 7,
            question: question.into(),
            message: message_id("c1", 7, after),
        }
    }

    #[test]
    fn a_yes_to_the_first_question_asks_the_next_one() {
        Given::with(())
            .given_no_previous_events()
            .when(reply("r1", "Yes, thank you"))
            .then_expect_events(vec![
                answered("helped", Answer::Yes, "r1", true),
                asked("rating", "r1"),
            ]);
    }

    #[test]
    fn a_no_skips_to_where_next_says() {
        Given::with(())
            .given_no_previous_events()
            .when(reply("r1", "no"))
            .then_expect_events(vec![
                answered("helped", Answer::No, "r1", true),
                asked("comment", "r1"),
            ]);
    }

    #[test]
    fn the_last_answer_finishes_the_survey_and_later_replies_are_only_replies() {
        let done = vec![
            answered("helped", Answer::No, "r1", true),
            asked("comment", "r1"),
            answered("comment", Answer::Text, "r2", true),
            SurveyEvent::SurveyFinished {
                campaign: "c1".into(),
                n: 7,
            },
        ];
        Given::with(())
            .given(done[..2].to_vec())
            .when(reply("r2", "They called me back fast"))
            .then_expect_events(done[2..].to_vec());
        Given::with(())
            .given(done)
            .when(reply("r3", "thanks again"))
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_reply_that_does_not_answer_is_asked_again_once_then_kept_as_words() {
        let reasked = SurveyEvent::SurveyReasked {
            campaign: "c1".into(),
            n: 7,
            question: "rating".into(),
            reply: "r2".into(),
            message: message_id("c1", 7, "r2"),
        };
        let before = vec![
            answered("helped", Answer::Yes, "r1", true),
            asked("rating", "r1"),
        ];
        Given::with(())
            .given(before.clone())
            .when(reply("r2", "pretty good"))
            .then_expect_events(vec![reasked.clone()]);
        Given::with(())
            .given([before, vec![reasked]].concat())
            .when(reply("r3", "very good really"))
            .then_expect_events(vec![
                answered("rating", Answer::Text, "r3", false),
                asked("comment", "r3"),
            ]);
    }

    #[test]
    fn a_reply_read_twice_answers_once() {
        Given::with(())
            .given(vec![
                answered("helped", Answer::Yes, "r1", true),
                asked("rating", "r1"),
            ])
            .when(reply("r1", "Yes, thank you"))
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_plan_names_what_is_wrong_with_its_survey() {
        let mut s = survey();
        assert_eq!(check(&s), Ok(()));
        s.questions[0].next.insert("maybe".into(), "comment".into());
        assert!(check(&s)
            .unwrap_err()
            .contains("\"maybe\" is not an answer"));
        s = survey();
        s.questions[2].next.insert("*".into(), "helped".into());
        assert!(check(&s).unwrap_err().contains("not a later question"));
        s = survey();
        s.questions[1].id = "helped".into();
        assert!(check(&s).unwrap_err().contains("earlier question"));
        s = survey();
        s.questions[1].answer = AnswerKind::Scale { min: 5, max: 1 };
        assert!(check(&s).unwrap_err().contains("min below max"));
        s = survey();
        s.expires = "three days".into();
        assert!(check(&s).unwrap_err().starts_with("survey.expires"));
    }

    #[test]
    fn a_choice_is_asked_with_its_letters_and_reasked_in_the_clients_language() {
        let q: Question = serde_json::from_value(json!({
            "id": "topic", "text": {"en": "What was it about?", "es": "¿De qué se trató?"},
            "answer": {"choice": {"options": ["Housing", "Family"]}}
        }))
        .unwrap();
        assert_eq!(ask(&q, "en"), "What was it about?\nA) Housing\nB) Family");
        assert_eq!(
            reask(&q, "es-MX"),
            "Perdón, no entendimos. Responda con una letra: A, B.\n¿De qué se trató?\nA) Housing\nB) Family"
        );
    }
}
