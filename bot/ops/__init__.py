"""Operations: health, metrics, reports for the people who run farmhand."""
