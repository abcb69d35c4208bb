using System.Diagnostics.CodeAnalysis;

namespace Loyalty.Domain.Common;

/// <summary>Either a value or an <see cref="DomainError"/>; expected failures travel as values and are mapped to HTTP once.</summary>
/// <typeparam name="T">Type of the success value.</typeparam>
public readonly record struct Result<T>
{
    private Result(T? value, DomainError? error)
    {
        Value = value;
        Error = error;
    }

    /// <summary>The value when <see cref="IsSuccess"/>.</summary>
    public T? Value { get; }

    /// <summary>The failure when not <see cref="IsSuccess"/>.</summary>
    public DomainError? Error { get; }

    /// <summary>True when a value is present.</summary>
    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Error is null;

    /// <summary>Creates a success.</summary>
    public static Result<T> Ok(T value) => new(value, null);

    /// <summary>Creates a failure.</summary>
    public static Result<T> Fail(DomainError error) => new(default, error ?? throw new ArgumentNullException(nameof(error)));

    /// <summary>Wraps a value as a success.</summary>
    public static implicit operator Result<T>(T value) => Ok(value);

    /// <summary>Wraps an error as a failure.</summary>
    public static implicit operator Result<T>(DomainError error) => Fail(error);
}
