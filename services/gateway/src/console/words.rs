//! The console in English and Spanish. Each page's words are written in English and
//! passed through [`t`], which answers them in the request's language: the person's
//! choice (the `casewire_lang` cookie, set by the link at the foot of every page), else
//! the browser's `Accept-Language`. The language is set once per request, by the console's
//! layer ([`scope`]); what the API says (its error messages) stays as the API says it.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::CookieJar;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Es,
}

pub(crate) const COOKIE: &str = "casewire_lang";

impl Lang {
    /// The request's language: the cookie's, else the first of `Accept-Language` that
    /// casewire speaks, else English.
    pub fn of(headers: &HeaderMap) -> Lang {
        let chosen = CookieJar::from_headers(headers)
            .get(COOKIE)
            .and_then(|c| Lang::named(c.value()));
        chosen.unwrap_or_else(|| {
            let accepted = headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            accepted
                .split(',')
                .filter_map(|tag| Lang::named(tag.split(';').next()?.trim().split('-').next()?))
                .next()
                .unwrap_or(Lang::En)
        })
    }

    pub fn named(code: &str) -> Option<Lang> {
        match code.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
}

tokio::task_local! {
    static LANG: Lang;
}

/// Runs `f` (a request's handling) in `lang`.
pub(crate) async fn scope<F: std::future::Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// The request's language (English outside a console request).
pub(crate) fn lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::En)
}

/// `english`, in the request's language.
pub(crate) fn t(english: &'static str) -> &'static str {
    term(english)
}

/// A word the API answers with (a status, a role, a reason), in the request's language
/// when casewire knows it, else as it is.
pub(crate) fn term(word: &str) -> &str {
    match lang() {
        Lang::En => word,
        Lang::Es => spanish(word).unwrap_or(word),
    }
}

fn spanish(english: &str) -> Option<&'static str> {
    Some(match english {
        "Admin" => "Administrador",
        "Advocate" => "Defensor",
        "Advocates" => "Defensores",
        "Advocate id in the CMS (advocates only; they then see only their cases)" => {
            "Id del defensor en el CMS (solo defensores; verán solo sus casos)"
        }
        "Audit trail" => "Registro de auditoría",
        "Back to the console" => "Volver a la consola",
        "Broken at seq " => "Roto en la secuencia ",
        "By" => "Por",
        "Case" => "Caso",
        "Case " => "Caso ",
        "Case id" => "Id del caso",
        "Cases" => "Casos",
        "Choose your password" => "Elija su contraseña",
        "Client" => "Cliente",
        "Client " => "Cliente ",
        "Client's number" => "Número del cliente",
        "Code from the app" => "Código de la aplicación",
        "Code from your authenticator app (only if you turned on two-step sign-in)" => {
            "Código de su aplicación de autenticación (solo si activó el inicio de sesión en dos pasos)"
        }
        "Compliance officer" => "Oficial de cumplimiento",
        "Confidentiality" => "Confidencialidad",
        "Console users" => "Usuarios de la consola",
        "Email" => "Correo electrónico",
        "Event" => "Evento",
        "Event type" => "Tipo de evento",
        "Events, oldest first" => "Eventos, del más antiguo al más reciente",
        "File on the case" => "Archivar en el caso",
        "Filter" => "Filtrar",
        "Flag" => "Marcar",
        "Flag " => "Marca ",
        "Flags" => "Marcas",
        "From (HH:MM)" => "Desde (HH:MM)",
        "Home" => "Inicio",
        "How clients reach you (said in the HELP reply)" => {
            "Cómo le contactan los clientes (se dice en la respuesta a AYUDA)"
        }
        "Inbox" => "Bandeja de entrada",
        "Intact: " => "Íntegro: ",
        "Invite" => "Invitar",
        "Invite someone" => "Invitar a alguien",
        "Invited " => "Invitación para ",
        "Key: " => "Clave: ",
        "Last texted" => "Último mensaje",
        "Leave both empty for no quiet hours." => "Deje ambos vacíos para no tener horas de silencio.",
        "Name" => "Nombre",
        "Next " => "Siguientes ",
        "No events match." => "Ningún evento coincide.",
        "No open cases." => "No hay casos abiertos.",
        "No open flags." => "No hay marcas abiertas.",
        "No texts yet." => "Todavía no hay mensajes.",
        "Not for your role" => "No corresponde a su función",
        "Not found" => "No encontrado",
        "Note" => "Nota",
        "Nothing to file." => "Nada que archivar.",
        "Open cases" => "Casos abiertos",
        "Open flags" => "Marcas abiertas",
        "Other" => "Otro",
        "Password" => "Contraseña",
        "Password (at least " => "Contraseña (al menos ",
        " characters; a few unrelated words make a good one)" => {
            " caracteres; unas palabras sin relación entre sí hacen una buena)"
        }
        "People who sign in to the console" => "Personas que inician sesión en la consola",
        "Policy" => "Política",
        "Quiet hours (in each client's time zone): reminders and bulk texts wait them out" => {
            "Horas de silencio (en la zona horaria de cada cliente): los recordatorios y los mensajes masivos esperan a que terminen"
        }
        "Reason" => "Motivo",
        "Resolve" => "Resolver",
        "Role" => "Función",
        "Save the policy" => "Guardar la política",
        "Search" => "Buscar",
        "Search the texts" => "Buscar en los mensajes",
        "Send" => "Enviar",
        "Seq" => "Sec.",
        "Set my password" => "Guardar mi contraseña",
        "Sign in" => "Iniciar sesión",
        "Sign out" => "Cerrar sesión",
        "Signed in to " => "Sesión iniciada en ",
        " as " => " como ",
        "Skip to the content" => "Saltar al contenido",
        "Something went wrong on our side. Try again; if it goes on, tell your administrator." => {
            "Algo salió mal de nuestro lado. Inténtelo de nuevo; si continúa, avise a su administrador."
        }
        "State" => "Estado",
        "Text " => "Mensaje ",
        "Text from " => "Mensaje de ",
        "Text to " => "Mensaje para ",
        "Texting policy" => "Política de mensajes",
        "Texts from numbers that belong to no case. File each on its case: the CMS gets it there." => {
            "Mensajes de números que no pertenecen a ningún caso. Archive cada uno en su caso: el CMS lo recibe allí."
        }
        "That code is not the app's: check the app's clock, and type the code it shows now." => {
            "Ese código no es el de la aplicación: revise el reloj de la aplicación y escriba el código que muestra ahora."
        }
        "That code is not your app's." => "Ese código no es el de su aplicación.",
        "That did not work" => "Eso no funcionó",
        "The audit trail" => "El registro de auditoría",
        "The code from your authenticator app is missing or wrong." => {
            "Falta el código de su aplicación de autenticación o no es correcto."
        }
        "The email or the password is wrong." => "El correo electrónico o la contraseña no es correcto.",
        "The link, for apps that take one" => "El enlace, para las aplicaciones que lo aceptan",
        "The same password again" => "La misma contraseña otra vez",
        "The two passwords differ; type the same one twice." => {
            "Las dos contraseñas son distintas; escriba la misma dos veces."
        }
        "This form has expired or did not come from casewire. Reload the page and try again." => {
            "Este formulario caducó o no vino de casewire. Vuelva a cargar la página e inténtelo de nuevo."
        }
        "Tone" => "Tono",
        "Turn off two-step sign-in" => "Desactivar el inicio de sesión en dos pasos",
        "Turn on two-step sign-in" => "Activar el inicio de sesión en dos pasos",
        "Two-step sign-in is " => "El inicio de sesión en dos pasos está ",
        "off" => "desactivado",
        "on" => "activado",
        "Until (HH:MM)" => "Hasta (HH:MM)",
        "Users" => "Usuarios",
        "Welcome, " => "Bienvenido/a, ",
        "What was done" => "Qué se hizo",
        "When (UTC)" => "Cuándo (UTC)",
        "Words in the texts" => "Palabras en los mensajes",
        "Wrong recipient" => "Destinatario equivocado",
        "Your account" => "Su cuenta",
        "segment" => "segmento",
        "segments" => "segmentos",
        ", about $" => ", unos $",
        "UCS-2 (a character outside GSM-7: each segment holds fewer)" => {
            "UCS-2 (un carácter fuera de GSM-7: cada segmento lleva menos)"
        }
        // The API's words: statuses, roles, states, reasons.
        "queued" => "en cola",
        "accepted" => "aceptado",
        "scheduled" => "programado",
        "sending" => "enviándose",
        "sent" => "enviado",
        "delivered" => "entregado",
        "read" => "leído",
        "undelivered" => "no entregado",
        "failed" => "falló",
        "canceled" => "cancelado",
        "unknown" => "desconocido",
        "received" => "recibido",
        "admin" => "administrador",
        "advocate" => "defensor",
        "compliance" => "cumplimiento",
        "open" => "abierto",
        "closed" => "cerrado",
        "invited" => "invitado",
        "active" => "activo",
        "locked" => "bloqueado",
        "inbound" => "entrante",
        "outbound" => "saliente",
        "confidentiality" => "confidencialidad",
        "wrong_recipient" => "destinatario equivocado",
        "tone" => "tono",
        "other" => "otro",
        "keyword" => "palabra clave",
        "Opening an event is recorded in the trail." => "Abrir un evento queda registrado en el registro de auditoría.",
        "Previous hash" => "Hash anterior",
        "Payload, sealed fields opened" => "Contenido, con los campos sellados abiertos",
        "Metadata" => "Metadatos",
        "Back to the trail" => "Volver al registro",
        "Event " => "Evento ",
        "A checkpoint is the trail's head signed by casewire. Keep the notes somewhere casewire's administrators cannot write: they prove the trail was not rewritten before them." => {
            "Un punto de control es la cabeza del registro firmada por casewire. Guarde las notas donde los administradores de casewire no puedan escribir: prueban que el registro no se reescribió antes de ellas."
        }
        "Verifier key: " => "Clave de verificación: ",
        "Sign a checkpoint now" => "Firmar un punto de control ahora",
        "Download the trail (redacted)" => "Descargar el registro (sin contenido privilegiado)",
        "Download the trail with texts opened" => "Descargar el registro con los mensajes abiertos",
        "Checkpoint at seq " => "Punto de control en la secuencia ",
        "No checkpoints yet." => "Todavía no hay puntos de control.",
        "Signed checkpoints" => "Puntos de control firmados",
        "Checkpoints" => "Puntos de control",
        "Legal holds and erasure" => "Retenciones legales y borrado",
        "Holds" => "Retenciones",
        "Holds that stand: no erasure of these clients, by hand or by policy" => {
            "Retenciones vigentes: estos clientes no se borran, ni a mano ni por política"
        }
        "Placed" => "Puesta",
        "Lift" => "Levantar",
        "No holds stand." => "No hay retenciones vigentes.",
        "Place a hold" => "Poner una retención",
        "Case id (or leave empty and give the number)" => "Id del caso (o déjelo vacío y dé el número)",
        "Reason (the matter or order)" => "Motivo (el asunto o la orden)",
        "Place the hold" => "Poner la retención",
        "Erase a client" => "Borrar a un cliente",
        "Their name, texts and notes read as erased everywhere from then on; the trail still verifies; the CMS is told; Twilio is asked to delete its copies. This cannot be undone." => {
            "Desde entonces su nombre, mensajes y notas se leen como borrados en todas partes; el registro sigue verificándose; se avisa al CMS; se pide a Twilio que borre sus copias. No se puede deshacer."
        }
        "Reason, naming no one (\"retention ended\", \"client's request\")" => {
            "Motivo, sin nombrar a nadie (\"fin de la retención\", \"pedido del cliente\")"
        }
        "I understand this cannot be undone" => "Entiendo que no se puede deshacer",
        "Erase the client" => "Borrar al cliente",
        "The hold stands." => "La retención está vigente.",
        "The client is erased." => "El cliente está borrado.",
        "Tick the box to say you understand it cannot be undone." => {
            "Marque la casilla para decir que entiende que no se puede deshacer."
        }
        "Consent to reminders and bulk texts: " => "Consentimiento para recordatorios y mensajes masivos: ",
        "Reminders" => "Recordatorios",
        "Appointment" => "Cita",
        "Before" => "Antes",
        "Goes at (UTC)" => "Sale a las (UTC)",
        "none" => "ninguno",
        "pending" => "pendiente",
        "granted" => "otorgado",
        "revoked" => "revocado",
        "deferred" => "aplazado",
        "skipped" => "omitido",
        "cancelled" => "cancelado",
        "Twilio" => "Twilio",
        "In the Twilio console, set the number's \"A message comes in\" webhook (HTTP POST) to:" => {
            "En la consola de Twilio, ponga el webhook \"A message comes in\" del número (HTTP POST) en:"
        }
        "The inbound webhook URL" => "La URL del webhook de entrada",
        "Copy" => "Copiar",
        "Copied" => "Copiado",
        "Twilio refused these credentials; texts wait until they are set again: " => {
            "Twilio rechazó estas credenciales; los mensajes esperan hasta que se pongan de nuevo: "
        }
        "Now: " => "Ahora: ",
        " USD a segment" => " USD por segmento",
        "Account SID" => "Account SID",
        "Auth token (never shown again; type it to change it)" => {
            "Auth token (no se vuelve a mostrar; escríbalo para cambiarlo)"
        }
        "From number (E.164), or leave empty and give a Messaging Service SID" => {
            "Número de envío (E.164), o déjelo vacío y dé un Messaging Service SID"
        }
        "Messaging Service SID" => "Messaging Service SID",
        "Price of a segment in USD (what Twilio charges you)" => "Precio de un segmento en USD (lo que Twilio le cobra)",
        "Save the Twilio settings" => "Guardar la configuración de Twilio",
        "API keys" => "Claves de API",
        "The new key, shown this once (casewire keeps only its hash): put it in the CMS now." => {
            "La clave nueva, mostrada esta única vez (casewire guarda solo su hash): póngala ahora en el CMS."
        }
        "The new key" => "La clave nueva",
        "Keys the CMS and other systems use" => "Claves que usan el CMS y otros sistemas",
        "Prefix" => "Prefijo",
        "Created" => "Creada",
        "Revoke" => "Revocar",
        "Issue a key" => "Emitir una clave",
        "Name (what it is for)" => "Nombre (para qué es)",
        "Integration (a CMS)" => "Integración (un CMS)",
        "Issue the key" => "Emitir la clave",
        "integration" => "integración",
        "English" => "English",
        "Español" => "Español",
        "Rate: a number of segments a second, such as 1 or 0.5" => "Ritmo: un número de segmentos por segundo, como 1 o 0.5",
        "Question" => "Pregunta",
        "a scale is written as its ends, such as 1-5" => "una escala se escribe con sus extremos, como 1-5",
        "New campaign" => "Campaña nueva",
        "Campaigns, newest first" => "Campañas, de la más reciente a la más antigua",
        "Kind" => "Tipo",
        "Recipients" => "Destinatarios",
        "Sent" => "Enviados",
        "Replied" => "Respondieron",
        "No campaigns yet." => "Todavía no hay campañas.",
        "Campaigns" => "Campañas",
        "Name (for you; clients do not see it)" => "Nombre (para usted; los clientes no lo ven)",
        "An announcement" => "Un anuncio",
        "A survey: the text opens it, its questions follow" => "Una encuesta: el mensaje la abre y siguen sus preguntas",
        "Who gets it: cases that match every filter you fill (commas between values)" => "Quién lo recibe: los casos que cumplen cada filtro que llene (comas entre valores)",
        "Case status" => "Estado del caso",
        "Open or closed" => "Abierto o cerrado",
        "Open" => "Abierto",
        "Closed" => "Cerrado",
        "Problem codes" => "Códigos de problema",
        "Offices" => "Oficinas",
        "Advocates (their ids in the CMS)" => "Defensores (sus ids en el CMS)",
        "Client languages" => "Idiomas de los clientes",
        "Case ids" => "Ids de casos",
        "Opened from" => "Abierto desde",
        "Opened until" => "Abierto hasta",
        "Closed from" => "Cerrado desde",
        "Closed until" => "Cerrado hasta",
        "Leave out clients texted in the last (days)" => "Dejar fuera a clientes con mensajes en los últimos (días)",
        "Preview the audience to see whom it reaches and what it costs." => "Vea la audiencia para saber a quién llega y cuánto cuesta.",
        "The text, with {client.first_name} and {organization.name} if you like; a client whose language has none gets the English" => "El mensaje, con {client.first_name} y {organization.name} si quiere; un cliente cuyo idioma no tenga mensaje recibe el inglés",
        "Rate: at most this many segments a second (the organization's own limit holds too)" => "Ritmo: como máximo estos segmentos por segundo (el límite de la organización también se aplica)",
        "Survey questions (a survey only), asked in order" => "Preguntas de la encuesta (solo encuestas), en orden",
        "Answer" => "Respuesta",
        "(no question)" => "(sin pregunta)",
        "Yes or no" => "Sí o no",
        "A number on a scale" => "Un número en una escala",
        "One of some options" => "Una de varias opciones",
        "In their own words" => "Con sus propias palabras",
        "The scale's ends (1-5) or the options (commas between)" => "Los extremos de la escala (1-5) o las opciones (con comas)",
        "Replies answer for (days)" => "Las respuestas cuentan durante (días)",
        "Preview the audience" => "Ver la audiencia",
        "Save the draft" => "Guardar el borrador",
        "opted out" => "dados de baja",
        "without consent" => "sin consentimiento",
        "without a number" => "sin número",
        "sharing a number (texted once)" => "que comparten número (un solo mensaje)",
        "texted lately" => "con mensajes recientes",
        "clients would get it, about $" => "clientes lo recibirían, unos $",
        " at one segment a text." => " a un segmento por mensaje.",
        "Left out:" => "Quedan fuera:",
        "Drafted" => "Borrador creado",
        "Launched" => "Lanzada",
        "Who" => "Quién",
        "Estimate" => "Estimación",
        "recipients, about $" => "destinatarios, unos $",
        "Download the results (CSV, one row per recipient)" => "Descargar los resultados (CSV, una fila por destinatario)",
        "Progress" => "Avance",
        "of" => "de",
        "handled" => "atendidos",
        "Where the texts stand" => "Dónde están los mensajes",
        "failed, Twilio error" => "falló, error de Twilio",
        "Launch: freeze the audience and start sending" => "Lanzar: fijar la audiencia y empezar a enviar",
        "Approve the launch" => "Aprobar el lanzamiento",
        "Pause" => "Pausar",
        "Resume" => "Reanudar",
        "Cancel for good" => "Cancelar para siempre",
        "Results" => "Resultados",
        "answered" => "respondieron",
        "Response rate, hours after the launch" => "Tasa de respuesta, horas después del lanzamiento",
        "median time to answer" => "tiempo mediano de respuesta",
        "No answers yet." => "Todavía no hay respuestas.",
        "Answers to" => "Respuestas a",
        "Clients" => "Clientes",
        "Hash" => "Hash",
        "From (day, UTC)" => "Desde (día, UTC)",
        "To (day, UTC)" => "Hasta (día, UTC)",
        " events" => " eventos",
        " events, up to seq " => " eventos, hasta la secuencia ",
        " with hash " => " con hash ",
        "announcement" => "anuncio",
        "survey" => "encuesta",
        "draft" => "borrador",
        "running" => "en curso",
        "paused" => "en pausa",
        "launch" => "lanzada",
        "approve" => "aprobada",
        "pause" => "en pausa",
        "resume" => "reanudada",
        "cancel" => "cancelada",
        "recipients" => "destinatarios",
        "replied" => "respondieron",
        "opted_out" => "dados de baja",
        "yes" => "sí",
        "no" => "no",
        "Waiting their turn" => "Esperando su turno",
        "Queued for Twilio" => "En cola para Twilio",
        "Delivered" => "Entregados",
        "Opted out" => "Dados de baja",
        "every case" => "todos los casos",
        "completed" => "terminada",
        "Usage" => "Uso",
        "Total" => "Total",
        "Month" => "Mes",
        "Purpose" => "Propósito",
        "Texts" => "Mensajes",
        "Segments" => "Segmentos",
        "Cost" => "Costo",
        "All" => "Todos",
        "Show" => "Mostrar",
        "From the month" => "Desde el mes",
        "conversation" => "conversación",
        "reminder" => "recordatorio",
        "bulk" => "masivo",
        "system" => "sistema",
        "Segments per month" => "Segmentos por mes",
        "No texts in these months." => "No hay mensajes en estos meses.",
        "Texts, segments and cost per month and purpose" => "Mensajes, segmentos y costo por mes y propósito",
        "Texts Twilio took and texts received, by month (UTC). The cost is the price per segment each text was sent at; Twilio bills received texts at its own inbound rate, not counted here." => {
            "Mensajes que Twilio aceptó y mensajes recibidos, por mes (UTC). El costo es el precio por segmento al que se envió cada mensaje; Twilio cobra los mensajes recibidos a su propia tarifa, que no se cuenta aquí."
        }
        "Webhooks" => "Webhooks",
        "Webhook endpoints" => "Destinos de webhooks",
        "Webhook endpoint" => "Destino de webhooks",
        "Address" => "Dirección",
        "Events" => "Eventos",
        "Attempts" => "Intentos",
        "Last answer" => "Última respuesta",
        "Next attempt" => "Próximo intento",
        "Send a test event" => "Enviar un evento de prueba",
        "Nothing sent yet." => "Nada enviado todavía.",
        "All endpoints" => "Todos los destinos",
        "Add an endpoint" => "Agregar un destino",
        "Add the endpoint" => "Agregar el destino",
        "Address (https://)" => "Dirección (https://)",
        "Events to send" => "Eventos que enviar",
        "No endpoints yet." => "Todavía no hay destinos.",
        "Where casewire sends events" => "Adónde envía casewire los eventos",
        "Deliveries, newest first" => "Entregas, las más recientes primero",
        "The signing secret" => "El secreto de firma",
        "The endpoint's signing secret, shown this once: the CMS checks every delivery with it." => {
            "El secreto de firma del destino, que se muestra esta única vez: el CMS verifica cada entrega con él."
        }
        "casewire POSTs each event the CMS subscribed to, signed per Standard Webhooks, and retries for about a day." => {
            "casewire envía por POST cada evento al que se suscribió el CMS, firmado según Standard Webhooks, y reintenta durante un día más o menos."
        }
        "Court dates" => "Fechas de corte",
        "Meetings" => "Reuniones",
        "Deadlines" => "Plazos",
        "Before the appointment, separated by commas" => "Antes de la cita, separados por comas",
        "Wording" => "Texto",
        "Try it on a case" => "Pruébelo en un caso",
        "Language" => "Idioma",
        "When, in the client's time zone (a week from now at 9:00 if empty)" => {
            "Cuándo, en la zona horaria del cliente (en una semana a las 9:00 si está vacío)"
        }
        "Location (optional)" => "Lugar (opcional)",
        "Preview the reminder" => "Ver el recordatorio",
        "Save the reminder policy" => "Guardar la política de recordatorios",
        "As the client would read it" => "Como lo leería el cliente",
        "Saved: open appointments' reminders are planned again by it." => {
            "Guardado: los recordatorios de las citas abiertas se vuelven a planificar con él."
        }
        "Name a case to try the wording on: its client's name and time zone are used." => {
            "Indique un caso para probar el texto: se usan el nombre y la zona horaria de su cliente."
        }
        "How long before an appointment each reminder goes (P7D is 7 days, PT2H two hours), and its wording. An empty box keeps casewire's own wording. Wording names the sender with {organization} and says how to stop (Reply STOP); it may use {client_first_name}, {date}, {time}, {location} and {advocate}." => {
            "Cuánto antes de una cita sale cada recordatorio (P7D son 7 días, PT2H dos horas), y su texto. Un cuadro vacío conserva el texto de casewire. El texto nombra al remitente con {organization} y dice cómo parar (Responda STOP); puede usar {client_first_name}, {date}, {time}, {location} y {advocate}."
        }
        "For the platform's operator: the token set as CASEWIRE_OPERATOR_TOKEN." => {
            "Para el operador de la plataforma: el token definido como CASEWIRE_OPERATOR_TOKEN."
        }
        "Operator token" => "Token del operador",
        "Operator sign-in" => "Inicio de sesión del operador",
        "That is not the operator's token." => "Ese no es el token del operador.",
        "Organizations" => "Organizaciones",
        "Time zone" => "Zona horaria",
        "No organizations yet." => "Todavía no hay organizaciones.",
        "Add an organization" => "Agregar una organización",
        "Time zone (IANA, as America/Chicago)" => "Zona horaria (IANA, como America/Chicago)",
        "Add the organization" => "Agregar la organización",
        "The invitation link, shown this once: hand it to the admin (casewire sends no email). It works for seven days." => {
            "El enlace de invitación, que se muestra esta única vez: entrégueselo al administrador (casewire no envía correos). Sirve durante siete días."
        }
        "The invitation link" => "El enlace de invitación",
        "Invite an admin" => "Invitar a un administrador",
        "The organization's admin sets Twilio, the policies, the keys for its CMS, and invites everyone else." => {
            "El administrador de la organización configura Twilio, las políticas y las claves de su CMS, e invita a todos los demás."
        }
        "Invite the admin" => "Invitar al administrador",
        "All organizations" => "Todas las organizaciones",
        "No quiet hours: every text goes at once." => "Sin horas de silencio: cada mensaje sale enseguida.",
        "your texts wait too." => "sus mensajes también esperan.",
        "your texts go at once." => "sus mensajes salen enseguida.",
        "Quiet hours:" => "Horas de silencio:",
        "to" => "a",
        "reminders and bulk texts wait until they end" => "los recordatorios y los mensajes masivos esperan a que terminen",
        "Your CMS's addresses that may show a case's thread inside their pages (https://…, separated by commas; no other site may)" => {
            "Las direcciones de su CMS que pueden mostrar la conversación de un caso dentro de sus páginas (https://…, separadas por comas; ningún otro sitio puede)"
        }
        "No texting provider is set yet." => "Todavía no hay un proveedor de mensajes.",
        "Hand them this link, shown this once: it works once, until" => {
            "Entréguele este enlace, que se muestra esta única vez: sirve una vez, hasta el"
        }
        "casewire sends no email." => "casewire no envía correos.",
        "Too many failed sign-ins from your address. Try again after" => {
            "Demasiados intentos fallidos desde su dirección. Vuelva a intentarlo después de las"
        }
        "Too many failed sign-ins: this account is locked until" => {
            "Demasiados intentos fallidos: esta cuenta está bloqueada hasta las"
        }
        "Or with your organization's account" => "O con la cuenta de su organización",
        "Where your organization signs you in with its own account (Microsoft 365, Google): your email" => {
            "Si su organización le da acceso con su propia cuenta (Microsoft 365, Google): su correo"
        }
        "Sign in with your organization's account" => "Iniciar sesión con la cuenta de su organización",
        "No single sign-on for this address: sign in with your password." => {
            "No hay inicio de sesión único para esta dirección: inicie sesión con su contraseña."
        }
        "This sign-in took too long or did not start here: try again." => {
            "Este inicio de sesión tardó demasiado o no empezó aquí: vuelva a intentarlo."
        }
        "Your organization's sign-in did not go through: try again." => {
            "El inicio de sesión de su organización no se completó: vuelva a intentarlo."
        }
        "Your organization signed in someone else: sign out there and try again." => {
            "Su organización inició la sesión de otra persona: cierre la sesión allí y vuelva a intentarlo."
        }
        "Signed in." => "Sesión iniciada.",
        "Signed in" => "Sesión iniciada",
        "Continue to the console" => "Continuar a la consola",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_the_cookies_then_the_browsers() {
        let headers = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            h
        };
        assert_eq!(Lang::of(&headers(&[])), Lang::En);
        assert_eq!(
            Lang::of(&headers(&[("accept-language", "es-MX,es;q=0.9,en;q=0.8")])),
            Lang::Es
        );
        assert_eq!(
            Lang::of(&headers(&[("accept-language", "fr-FR, es;q=0.5")])),
            Lang::Es
        );
        assert_eq!(
            Lang::of(&headers(&[
                ("accept-language", "es-MX"),
                ("cookie", "casewire_lang=en")
            ])),
            Lang::En
        );
    }

    #[tokio::test]
    async fn words_are_spanish_in_a_spanish_request_and_english_outside() {
        assert_eq!(t("Sign in"), "Sign in");
        let inside = scope(Lang::Es, async { (t("Sign in"), t("no such phrase")) }).await;
        assert_eq!(inside, ("Iniciar sesión", "no such phrase"));
    }
}
