public enum TTFAPlaceholder {}
