using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Tests.Infrastructure;

public sealed class HttpBodiesTests
{
    [Fact]
    public async Task ReadJsonAsync_WhenTheClientStopsMidBody_AnswersItsStatusInProblemDetails()
    {
        // What Kestrel throws when a body ends before its Content-Length (a client timing out or dropping).
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = 1000;
        context.Request.Body = new FailingStream(new BadHttpRequestException("Unexpected end of request content.", StatusCodes.Status400BadRequest));

        var (body, error) = await HttpBodies.ReadJsonAsync(context.Request, 4096, TestContext.Current.CancellationToken);

        Assert.True(body.IsEmpty);
        var problem = Assert.IsType<ProblemHttpResult>(error);
        Assert.Equal(StatusCodes.Status400BadRequest, problem.StatusCode);
        Assert.Equal("Unexpected end of request content.", problem.ProblemDetails.Detail);
    }

    [Fact]
    public async Task ReadJsonAsync_WhenTheBodyIsComplete_ReturnsItsBytes()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json; charset=utf-8";
        context.Request.Body = new MemoryStream("{\"a\":1}"u8.ToArray());

        var (body, error) = await HttpBodies.ReadJsonAsync(context.Request, 4096, TestContext.Current.CancellationToken);

        Assert.Null(error);
        Assert.Equal("{\"a\":1}"u8.ToArray(), body.ToArray());
    }

    private sealed class FailingStream(Exception error) : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(error);
    }
}
