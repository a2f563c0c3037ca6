public enum ReferenceServerPlaceholder {}
