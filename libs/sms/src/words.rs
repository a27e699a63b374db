//! What a client's text says, read as words: the accents Spanish texts carry (or leave
//! out, on a phone without them) folded away, so "SÍ", "sí" and "si" read alike. One
//! folding for every reader of replies: consent's keywords and a survey's answers.

/// `c` without its accent (Á → A, ñ → n), in the case it came; any other character as is.
pub fn fold(c: char) -> char {
    match c {
        'Á' | 'À' | 'Ä' | 'Â' => 'A',
        'É' | 'È' | 'Ë' | 'Ê' => 'E',
        'Í' | 'Ì' | 'Ï' | 'Î' => 'I',
        'Ó' | 'Ò' | 'Ö' | 'Ô' => 'O',
        'Ú' | 'Ù' | 'Ü' | 'Û' => 'U',
        'Ñ' => 'N',
        'á' | 'à' | 'ä' | 'â' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' => 'o',
        'ú' | 'ù' | 'ü' | 'û' => 'u',
        'ñ' => 'n',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accents_fold_away_in_either_case() {
        let fold = |s: &str| s.chars().map(super::fold).collect::<String>();
        assert_eq!(fold("SÍ sí Quítenme AÑO"), "SI si Quitenme ANO");
    }
}
